"""The ``heron`` command line.

``heron backends`` and ``heron envs`` list what is installed; ``heron train``,
``heron evaluate`` and ``heron compare`` work with any installed backend.
Plugins add their own commands through the ``heron_commands`` hook.

Every error a command meets, plugin commands' included, ends as one line on
stderr and a non-zero exit: a HERON error (exit 1) as its message, an
``OSError`` as its path and reason, click's usage errors as click prints
them (exit 2), any other exception as ``Error: Type: message``, Ctrl-C as
``Interrupted.`` (exit 130). ``HERON_DEBUG=1`` lets the exception through,
with its traceback.
"""

from __future__ import annotations

import errno
import os
from typing import Any

import click

from heron.cli.evaluate import compare, evaluate
from heron.cli.listing import backends, envs
from heron.cli.train import train
from heron.core.errors import HeronError
from heron.training.plugins import HeronPluginManager, debug_enabled, get_plugin_manager
from heron.utils.hints import did_you_mean

__all__ = ["cli"]

INTERRUPTED_EXIT_CODE = 130
TRACEBACK_HINT = "(set HERON_DEBUG=1 for the traceback)"


def _os_error_line(exc: OSError) -> str:
    """``path: reason`` (``path -> other: reason`` for a rename or link); without a path, the reason and errno name."""
    reason = exc.strerror or str(exc)
    if exc.filename is None:
        return f"{reason} ({errno.errorcode.get(exc.errno, exc.errno)})"
    where = os.fsdecode(exc.filename)
    if exc.filename2 is not None:
        where += f" -> {os.fsdecode(exc.filename2)}"
    return f"{where}: {reason}"


def error_line(exc: BaseException) -> str:
    """The one line ``heron`` prints for ``exc`` (after ``Error: ``), with the notes HERON added to it.

    Only an error that names what went wrong (a HERON error, an OSError with its path) goes without the
    :data:`TRACEBACK_HINT`.
    """
    if isinstance(exc, HeronError):
        text, hint = str(exc), False
    elif isinstance(exc, OSError) and exc.errno is not None:
        text, hint = _os_error_line(exc), exc.filename is None
    else:
        text, hint = f"{type(exc).__name__}: {exc}".removesuffix(": "), True
    parts = [text, *(getattr(exc, "__notes__", None) or []), *([TRACEBACK_HINT] if hint else [])]
    return " ".join(" ".join(str(part).split()) for part in parts)


class HeronGroup(click.Group):
    """A click group with the commands of plugins, whose errors are one-line messages."""

    _plugin_commands_of: tuple[HeronPluginManager, dict[str, click.Command]] | None = None

    def _plugin_commands(self) -> dict[str, click.Command]:
        """The plugins' commands, collected once per plugin manager (a reset manager collects them again)."""
        manager = get_plugin_manager()
        if self._plugin_commands_of is None or self._plugin_commands_of[0] is not manager:
            self._plugin_commands_of = (manager, manager.commands(self.commands))
        return self._plugin_commands_of[1]

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._plugin_commands()})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name) or self._plugin_commands().get(name)
        if command is None:
            for clash in get_plugin_manager().name_clashes("command"):
                if clash.name == name:
                    raise click.UsageError(f"command {name!r} is not available: {clash.describe()}", ctx)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0]
        if not name.startswith("-") and not ctx.resilient_parsing and self.get_command(ctx, name) is None:
            hint = did_you_mean(name, self.list_commands(ctx))  # plugin commands included
            raise click.UsageError(f"No such command {name!r}{hint}.", ctx)
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            if debug_enabled():
                raise
            click.echo("Interrupted.", err=True)
            raise click.exceptions.Exit(INTERRUPTED_EXIT_CODE) from None
        except BaseException as exc:
            if debug_enabled() or (isinstance(exc, OSError) and exc.errno == errno.EPIPE):
                raise  # click quiets a closed stdout (heron backends | head) itself
            raise click.ClickException(error_line(exc)) from exc


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
