"""The hooks a HERON plugin may implement.

A plugin is a module named by an entry point in the ``heron`` group::

    [project.entry-points.heron]
    mybackend = "heron_mybackend.plugin"

and decorates its hook functions with :data:`hookimpl`. Hooks are called
with keyword arguments, and an implementation may accept fewer arguments
than the specification, so new arguments can be added without breaking
plugins.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click

    from heron.training.backends import BackendSpec
    from heron.training.registry import EnvSpec

__all__ = ["heron_backends", "heron_commands", "heron_envs", "hookimpl", "hookspec"]

PROJECT_NAME = "heron"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def heron_backends() -> Sequence[BackendSpec]:
    """Return the training backends this plugin provides.

    Each :class:`~heron.training.backends.BackendSpec` names the backend, the
    algorithms it offers (``"ippo"``, ``"mappo"``, ...), a trainer factory
    taking an :class:`~heron.training.experiment.ExperimentSpec`, and a loader for
    the policies its trainers save. Backend names must be unique across
    plugins.
    """


@hookspec
def heron_envs() -> Sequence[EnvSpec]:
    """Return the named environments this plugin provides (see :mod:`heron.training.registry`)."""


@hookspec
def heron_commands(cli: click.Group) -> None:
    """Add commands to the ``heron`` command line (``cli.add_command(...)`` or ``@cli.command()``)."""
