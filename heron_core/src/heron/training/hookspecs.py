"""The hooks a HERON plugin may implement.

A plugin is a module named by an entry point in the ``heron`` group::

    [project.entry-points.heron]
    mybackend = "heron_mybackend.plugin"

and decorates its hook functions with :data:`hookimpl`. Hooks are called
with keyword arguments, and an implementation may accept fewer arguments
than the specification, so new arguments can be added without breaking
plugins.

HERON calls each plugin's implementation on its own, so that a plugin that
raises (any exception, ``SystemExit`` included; not ``KeyboardInterrupt``,
which is the user stopping heron) is marked broken while the others keep
working; a failed hook drops only that hook's results. The order is the
one pluggy documents: ``@hookimpl(tryfirst=True)`` implementations first,
then the plain ones (the last registered first), then
``@hookimpl(trylast=True)`` ones. Hook wrappers (``wrapper=True`` and the
old-style ``hookwrapper=True``) are rejected when the plugin is loaded: a
HERON hook returns one result per plugin and plugins are isolated from each
other, so there is no combined call for a wrapper to wrap.

Names are unique across plugins. HERON's own distributions (heron-core,
heron-backend-manual, heron-backend-rllib) keep theirs: a third-party
backend ``manual``, environment ``thermostat`` or command ``train`` is
skipped (the backend names ``manual`` and ``rllib`` even while their
distribution is not installed). Between third-party plugins neither wins: a name two of them offer
is used by none (the install order would otherwise decide, differently from
one machine to the next); uninstall one, or load one with
``HERON_LOAD_PLUGINS``. A clash is not an error of the plugins: their other
names still work, and ``heron backends -v`` and ``heron envs`` list it,
naming every side and the one kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click

    from heron.training.backends import BackendSpec
    from heron.training.registry import EnvSpec

__all__ = ["heron_backends", "heron_commands", "heron_envs", "hookimpl"]

PROJECT_NAME = "heron"

_hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@_hookspec
def heron_backends() -> Sequence[BackendSpec]:
    """Return the training backends this plugin provides.

    Called when HERON needs the installed backends (``heron backends``,
    ``heron train --backend NAME``, :func:`~heron.training.make_trainer`).

    :returns:
        A list of :class:`~heron.training.backends.BackendSpec`, each naming
        the backend, the algorithms it offers (``"ippo"``, ``"mappo"``, ...),
        a trainer factory taking an
        :class:`~heron.training.experiment.ExperimentSpec`, and a loader for
        the policies its trainers save. ``None`` or an empty list provides
        nothing.

    Results of several plugins are merged by backend name, in pluggy's call
    order (tryfirst first); a name two plugins offer is resolved as the module
    docstring says. A plugin that offers a name twice, or returns anything but
    ``BackendSpec`` objects, is marked broken and none of its backends is used.

    Hook wrappers are rejected: the plugin is listed as broken.
    """


@_hookspec
def heron_envs() -> Sequence[EnvSpec]:
    """Return the named environments this plugin provides.

    Called whenever HERON looks up environments (``heron envs``,
    ``--env NAME``, :func:`~heron.training.make_env`,
    :func:`~heron.training.env_specs`).

    :returns:
        A list of :class:`~heron.training.registry.EnvSpec`: a name, a
        ``make_config(**kwargs)`` returning the flat env_config, a one-line
        description and optionally a reference policy. ``None`` or an empty
        list provides nothing.

    Results of several plugins are merged by environment name, in pluggy's
    call order (tryfirst first), then the environments registered at run
    time with :func:`~heron.training.register_env` are added. A name two
    plugins offer is resolved as the module docstring says (heron-core's own
    ``thermostat`` stays heron-core's). A plugin that offers a name twice, or
    returns anything but ``EnvSpec`` objects, is marked broken and none of
    its environments is used.

    ``heron envs -v`` lists each environment's arguments: the keyword
    parameters of ``make_config`` with their defaults, described by the
    Google-style ``Args:`` section of its docstring.

    Hook wrappers are rejected: the plugin is listed as broken.
    """


@_hookspec
def heron_commands(cli: click.Group) -> None:
    """Add commands to the ``heron`` command line.

    Called once, the first time the ``heron`` command lists or looks up its
    sub-commands.

    :param cli:
        A click group collecting this plugin's commands: add to it with
        ``cli.add_command(...)`` or decorate functions with
        ``@cli.command()``. HERON then adds them to ``heron``.

    :returns:
        Nothing; the return value is ignored.

    Every plugin is called, in pluggy's call order (tryfirst first), each
    with a group of its own. A command named like one of heron's own
    (``train``, ``evaluate``, ...) never replaces it, and a name two
    third-party plugins add is used by neither (see the module docstring):
    ``heron backends -v`` lists the clash, and running the name says why it
    is missing. A plugin that raises is marked broken and the commands of the
    others are still added. A command that raises when it runs gets the same
    one-line error as heron's own.

    Hook wrappers are rejected: the plugin is listed as broken.
    """
