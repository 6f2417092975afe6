"""The ``heron`` command line.

``heron backends`` and ``heron envs`` list what is installed; ``heron train``,
``heron evaluate`` and ``heron compare`` work with any installed backend.
Plugins add their own commands through the ``heron_commands`` hook.
"""

from __future__ import annotations

from typing import Any

import click

from heron.cli.evaluate import compare, evaluate
from heron.cli.listing import backends, envs
from heron.cli.train import train
from heron.core.errors import HeronError
from heron.training.plugins import get_plugin_manager

__all__ = ["cli"]


class HeronGroup(click.Group):
    """A click group that adds plugin commands on first use and turns HERON errors into one-line messages."""

    _plugins_loaded = False

    def _load_plugin_commands(self) -> None:
        if not self._plugins_loaded:
            self._plugins_loaded = True
            list(get_plugin_manager().call_each("heron_commands", cli=self))

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        self._load_plugin_commands()
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HeronError as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(cls=HeronGroup)
@click.version_option(package_name="heron-core", prog_name="heron")
def cli() -> None:
    """HERON: train multi-agent RL policies for hierarchical control systems.

    \b
    Quick start:
      heron backends            installed training backends
      heron envs                registered environments
      heron train               train IPPO and MAPPO on the two-room thermostat
      heron evaluate RUN_DIR    evaluate the policies a training run saved
    """


for _command in (backends, envs, train, evaluate, compare):
    cli.add_command(_command)
