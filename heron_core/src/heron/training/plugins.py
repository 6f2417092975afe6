"""Loading plugins from the ``heron`` entry-point group, and what they provide.

Plugins are loaded one by one: a plugin that fails to import (whatever it
raises, ``SystemExit`` included), implements a hook that does not exist,
implements a hook as a wrapper, or whose hook raises or returns something
malformed, is recorded as broken with its error, and the other plugins keep
working. A hook that fails drops only that hook's contribution: the plugin's
other hooks still count, whatever order HERON calls them in. ``heron
backends`` shows both. Hook implementations are called one by one, in the
order pluggy's own hook call uses (see :mod:`heron.training.hookspecs`).

A ``KeyboardInterrupt`` raised while a plugin loads or runs is not contained:
it is the user pressing Ctrl-C, and heron stops.

Names (of backends, environments, commands) are unique: a name offered by one
built-in distribution (:data:`BUILTIN_DISTRIBUTIONS`) and by third-party
plugins goes to the built-in one; a name offered by several third-party
plugins goes to none of them; the names of HERON's own backends
(:data:`RESERVED_BACKENDS`) go to no other plugin, even while the real one is
not installed. Either way the clash is recorded
(:meth:`HeronPluginManager.name_clashes`) and listed by ``heron backends -v``
and ``heron envs``; the plugins are not broken, their other names still work.

Environment variables:

* ``HERON_LOAD_PLUGINS``: comma-separated entry-point names of third-party
  plugins to load (set but empty: load none). Unset: load every installed
  plugin. heron-core's own plugin (the demo environments) always loads.
* ``HERON_PLUGINS_RAISE=1``: re-raise plugin errors instead of recording
  them (for plugin authors).
* ``HERON_DEBUG=1``: print the traceback of a plugin that fails.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
import traceback
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType, ModuleType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import pluggy

from heron.core.errors import BackendError
from heron.training import hookspecs
from heron.training.backends import BackendSpec
from heron.utils.hints import did_you_mean

if TYPE_CHECKING:
    import click

__all__ = ["BUILTIN_DISTRIBUTIONS", "ENTRY_POINT_GROUP", "get_plugin_manager", "reset_plugin_manager"]

ENTRY_POINT_GROUP = "heron"
CORE_DISTRIBUTION = "heron-core"
KNOWN_BACKENDS: Mapping[str, str] = MappingProxyType({"manual": "heron_backend_manual", "rllib": "heron_backend_rllib"})
"""``{backend name: folder of its distribution in a HERON checkout}`` for the backends HERON ships."""
BUILTIN_DISTRIBUTIONS = frozenset({CORE_DISTRIBUTION, "heron-backend-manual", "heron-backend-rllib"})
"""The distributions of HERON itself: their names are never given to a third-party plugin."""
RESERVED_BACKENDS: Mapping[str, str] = MappingProxyType(
    {name: folder.replace("_", "-") for name, folder in KNOWN_BACKENDS.items()}
)
"""``{backend name: distribution}``: a third-party backend called ``manual`` is skipped even without the real one."""
CLI_MODULE = "heron.cli.main"
WRAPPERS_UNSUPPORTED = (
    "HERON does not support hook wrappers: each heron hook returns one result per plugin and HERON calls "
    "every plugin on its own, so there is no combined call to wrap; drop the wrapper option and return the result"
)
IMPORT, REGISTER = "import", "register"  # the stages before hooks where a plugin can fail


class Named(Protocol):
    """What a hook's results are merged by: their name."""

    @property
    def name(self) -> str: ...


NamedT = TypeVar("NamedT", bound=Named)
T = TypeVar("T")


def _flag(variable: str) -> bool:
    return os.environ.get(variable, "") not in ("", "0")


def debug_enabled() -> bool:
    """Whether ``HERON_DEBUG`` asks for tracebacks."""
    return _flag("HERON_DEBUG")


@dataclass
class PluginRecord:
    """One plugin: where it comes from and whether it works.

    Attributes:
        errors: ``{stage: message}`` for each stage that failed: ``"import"``, ``"register"`` or a hook name.
    """

    name: str
    module: str
    distribution: str
    version: str
    errors: dict[str, str] = field(default_factory=dict)
    hooks: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def error(self) -> str | None:
        """Every error of the plugin in one line, or None."""
        return "; ".join(self.errors.values()) or None

    @property
    def builtin(self) -> bool:
        """Whether the plugin belongs to HERON itself (:data:`BUILTIN_DISTRIBUTIONS`)."""
        return self.distribution in BUILTIN_DISTRIBUTIONS

    def label(self) -> str:
        """``plugin 'name' (distribution)``, with ``built in`` for HERON's own."""
        if self.module == CLI_MODULE:
            return f"heron's own command line ({self.distribution}, built in)"
        return f"plugin {self.name!r} ({self.distribution}{', built in' if self.builtin else ''})"


@dataclass(frozen=True)
class BackendEntry:
    """A backend together with the plugin that provides it."""

    spec: BackendSpec
    plugin: PluginRecord


@dataclass(frozen=True)
class NameClash:
    """A backend, environment or command name that several plugins offer.

    Attributes:
        what: ``"backend"``, ``"environment"`` or ``"command"``.
        providers: every plugin offering the name, in call order.
        kept: the one plugin whose object HERON uses (the only built-in provider), or None: none is used.
        reserved_for: the HERON distribution the name belongs to (``manual``, ``rllib``), if any.
    """

    what: str
    name: str
    providers: tuple[PluginRecord, ...]
    kept: PluginRecord | None
    reserved_for: str | None = None

    def describe(self) -> str:
        """One line naming every side and which one is kept."""
        sides = [f"{record.label()}: {'kept' if record is self.kept else 'skipped'}" for record in self.providers]
        if self.kept is not None:
            rule = "a built-in name is never given to another plugin"
        elif self.reserved_for is not None:
            rule = f"the name belongs to {self.reserved_for}, which is not installed"
        else:
            rule = "none is used; uninstall all but one, or choose one with HERON_LOAD_PLUGINS"
        return f"{self.what} {self.name!r} is offered by {' and '.join(sides)}; {rule}"


def _is_core(entry_point: importlib.metadata.EntryPoint) -> bool:
    return _distribution(entry_point)[0] == CORE_DISTRIBUTION


def _distribution(entry_point: importlib.metadata.EntryPoint) -> tuple[str, str]:
    dist = entry_point.dist
    return (dist.metadata["Name"], dist.version) if dist is not None else ("?", "?")


def _allowed_names() -> set[str] | None:
    value = os.environ.get("HERON_LOAD_PLUGINS")
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"SystemExit({exc.code!r}) (the plugin called sys.exit)"
    return f"{type(exc).__name__}: {exc}"


def install_hint(backend: str) -> str:
    """How to install the distribution of a backend HERON ships (``""`` for other names)."""
    folder = KNOWN_BACKENDS.get(backend)
    if folder is None:
        return ""
    return (f"backend {backend!r} is provided by {RESERVED_BACKENDS[backend]}, which is not on PyPI yet: "
            f"install it from a HERON checkout with pip install ./{folder}")


def _may_provide(record: PluginRecord, backend: str) -> bool:
    """Whether ``record`` is the plugin of ``backend``: named after it, or the distribution HERON ships it in."""
    return record.name.split("@")[0] == backend or record.distribution == RESERVED_BACKENDS.get(backend)


def _wrapper_problem(plugin: object, callers: list[pluggy.HookCaller]) -> str | None:
    """Why ``plugin`` cannot be used if it implements a hook as a (new- or old-style) wrapper, else None."""
    for caller in callers:
        for impl in caller.get_hookimpls():
            if impl.plugin is plugin and (impl.wrapper or impl.hookwrapper):
                option = "wrapper=True" if impl.wrapper else "hookwrapper=True"
                return f"hook {caller.name} is declared with @hookimpl({option}); {WRAPPERS_UNSUPPORTED}"
    return None


def _call(impl: pluggy.HookImpl, kwargs: Mapping[str, Any]) -> Any:
    """Call one implementation as pluggy does: its positional parameters, and those with defaults the call gives."""
    args = [kwargs[name] for name in impl.argnames]
    return impl.function(*args, **{name: kwargs[name] for name in impl.kwargnames if name in kwargs})


def _result_problem(hook_name: str, result: Any, kind: type) -> str | None:
    """Why ``result`` is not a sequence of ``kind`` objects with distinct names, or None."""
    expected = f"expected a list of {kind.__name__} objects"
    if not isinstance(result, Sequence) or isinstance(result, str):
        return f"{hook_name} returned {result!r}, {expected}"
    wrong = [item for item in result if not isinstance(item, kind)]
    if wrong:
        return f"{hook_name} returned {wrong[0]!r}, {expected}"
    names = [item.name for item in result]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        return f"{hook_name} returned the name(s) {twice} more than once, expected unique names"
    return None


class HeronPluginManager:
    """The pluggy manager for the ``heron`` hooks, with per-plugin error records and name clashes."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.records: dict[str, PluginRecord] = {}
        self._clashes: dict[str, list[NameClash]] = {}

    # -------------------------------------------------------------- loading
    def load_entrypoints(self) -> None:
        """Load the plugins of the ``heron`` entry-point group: HERON's own first, then the others by distribution.

        Third-party plugins are subject to ``HERON_LOAD_PLUGINS``. An entry-point name that another
        distribution took already is recorded as ``name@distribution``.
        """
        allowed = _allowed_names()
        entry_points = sorted(
            importlib.metadata.entry_points(group=ENTRY_POINT_GROUP),
            key=lambda ep: (not _is_core(ep), _distribution(ep)[0] not in BUILTIN_DISTRIBUTIONS,
                            _distribution(ep)[0], ep.name),
        )
        for entry_point in entry_points:
            if allowed is not None and entry_point.name not in allowed and not _is_core(entry_point):
                continue
            distribution, version = _distribution(entry_point)
            name = entry_point.name if entry_point.name not in self.records else f"{entry_point.name}@{distribution}"
            record = PluginRecord(name, entry_point.value, distribution, version)
            self.records[name] = record
            try:
                plugin = entry_point.load()
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # SystemExit and the like too: one plugin must not stop heron
                self._fail(record, IMPORT, f"import failed: {_describe(exc)}", exc)
                continue
            self._register(plugin, record)

    def register_plugin(self, plugin: ModuleType | object, name: str, distribution: str = "?") -> PluginRecord:
        """Register a plugin object directly (tests, notebooks); returns its record.

        Raises:
            BackendError: a plugin called ``name`` is registered already.
        """
        if name in self.records:
            raise BackendError(f"a plugin named {name!r} is already registered ({self.records[name].module})")
        record = PluginRecord(name, getattr(plugin, "__name__", repr(plugin)), distribution, "?")
        self.records[name] = record
        self._register(plugin, record)
        return record

    def _register(self, plugin: Any, record: PluginRecord) -> None:
        try:
            self.pm.register(plugin, name=record.name)
        except Exception as exc:  # pluggy.PluginValidationError, ValueError for duplicates
            self._fail(record, REGISTER, f"invalid hook implementation: {exc}", exc)
            return
        callers = self.pm.get_hookcallers(plugin) or []
        problem = self._registration_problem(plugin, callers)
        if problem is not None:
            self.pm.unregister(plugin)
            self._fail(record, REGISTER, problem)
            return
        record.hooks = sorted(caller.name for caller in callers)

    def _registration_problem(self, plugin: object, callers: list[pluggy.HookCaller]) -> str | None:
        """Why a registered ``plugin`` cannot be used: unknown hooks, no hooks, hook wrappers; None if it can."""
        unknown = [caller.name for caller in callers if not caller.has_spec()]
        if unknown:
            return f"implements unknown hook(s) {unknown}; known hooks: {self.hook_names()}"
        if not callers:
            return f"implements no heron hook; known hooks: {self.hook_names()}"
        return _wrapper_problem(plugin, callers)

    def _fail(self, record: PluginRecord, stage: str, message: str, exc: BaseException | None = None) -> None:
        """Record that ``record`` failed at ``stage`` (re-raise with ``HERON_PLUGINS_RAISE``)."""
        record.errors[stage] = message
        if _flag("HERON_PLUGINS_RAISE"):
            if exc is not None:
                raise exc
            raise BackendError(f"plugin {record.name!r}: {message}")
        if exc is not None and debug_enabled():
            traceback.print_exception(exc, file=sys.stderr)

    @staticmethod
    def hook_names() -> list[str]:
        return sorted(name for name in dir(hookspecs) if name.startswith("heron_"))

    # -------------------------------------------------------------- calling
    def _call_one(self, record: PluginRecord, hook_name: str, impl: pluggy.HookImpl, kwargs: Mapping[str, Any]
                  ) -> tuple[bool, Any]:
        """``(True, result)`` of one implementation, or ``(False, None)`` after recording what it raised."""
        try:
            result = _call(impl, kwargs)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # SystemExit and the like too: one plugin must not stop heron
            self._fail(record, hook_name, f"hook {hook_name} raised {_describe(exc)}", exc)
            return False, None
        record.errors.pop(hook_name, None)
        return True, result

    def _implementations(self, hook_name: str) -> Iterator[tuple[PluginRecord, pluggy.HookImpl]]:
        """Pluggy's call order: the reverse of ``get_hookimpls()``."""
        for impl in reversed(getattr(self.pm.hook, hook_name).get_hookimpls()):
            yield self.records[impl.plugin_name], impl

    def call_each(self, hook_name: str, **kwargs: Any) -> Iterator[tuple[PluginRecord, Any]]:
        """Call every implementation of ``hook_name`` on its own; a raising plugin is marked broken.

        The order is pluggy's call order, the reverse of ``get_hookimpls()``: tryfirst implementations,
        then plain ones (last registered first), then trylast ones.
        """
        for record, impl in self._implementations(hook_name):
            ok, result = self._call_one(record, hook_name, impl, kwargs)
            if ok:
                yield record, result

    def collect_named(
        self, hook_name: str, kind: type[NamedT], what: str, reserved: Mapping[str, str] = MappingProxyType({})
    ) -> dict[str, tuple[NamedT, PluginRecord]]:
        """Every ``kind`` object the plugins return from ``hook_name``, by name, with its plugin.

        Plugins are taken in pluggy's call order. A plugin whose result is not a list of ``kind`` objects with
        distinct names is marked broken for that hook and contributes nothing. A name several plugins offer is
        merged as the module docstring says (``what`` names the objects in the clash, e.g. ``"backend"``);
        ``reserved`` maps names to the only distribution that may offer them.
        """
        offers: list[tuple[PluginRecord, dict[str, NamedT]]] = []
        for record, result in self.call_each(hook_name):
            items = [] if result is None else result
            problem = _result_problem(hook_name, items, kind)
            if problem is not None:
                self._fail(record, hook_name, problem)
                continue
            offers.append((record, {item.name: item for item in items}))
        return self._merge(hook_name, what, offers, reserved)

    def _merge(
        self,
        hook_name: str,
        what: str,
        offers: Sequence[tuple[PluginRecord, Mapping[str, T]]],
        reserved: Mapping[str, str] = MappingProxyType({}),
    ) -> dict[str, tuple[T, PluginRecord]]:
        """``{name: (object, plugin)}`` of a name offered once, or by several with exactly one built-in among them.

        ``reserved``: ``{name: distribution}`` of names only that distribution may offer.
        """
        providers: dict[str, list[tuple[T, PluginRecord]]] = {}
        for record, items in offers:
            for name, item in items.items():
                providers.setdefault(name, []).append((item, record))
        found: dict[str, tuple[T, PluginRecord]] = {}
        clashes = []
        for name, offered in providers.items():
            owner = reserved.get(name)
            eligible = [offer for offer in offered if owner in (None, offer[1].distribution)]
            builtin = [offer for offer in eligible if offer[1].builtin]
            kept = offered[0] if len(offered) == len(eligible) == 1 else builtin[0] if len(builtin) == 1 else None
            if kept is not None:
                found[name] = kept
            if len(offered) > 1 or kept is None:
                sides = tuple(record for _, record in offered)
                clashes.append(NameClash(what, name, sides, None if kept is None else kept[1], owner))
        self._clashes[hook_name] = clashes
        return found

    def name_clashes(self, what: str | None = None) -> list[NameClash]:
        """The clashes of the lookups made so far (of one kind: ``"backend"``, ``"environment"``, ``"command"``)."""
        return [clash for clashes in self._clashes.values() for clash in clashes if what in (None, clash.what)]

    # ------------------------------------------------------------- results
    def backends(self) -> dict[str, BackendEntry]:
        """Every working backend by name (see :func:`heron.training.hookspecs.heron_backends` for how they merge)."""
        found = self.collect_named("heron_backends", BackendSpec, "backend", RESERVED_BACKENDS)
        return {name: BackendEntry(spec, record) for name, (spec, record) in found.items()}

    def backend(self, name: str) -> BackendSpec:
        """The backend called ``name``, or a BackendError saying why there is none and what is installed."""
        available = self.backends()
        if name in available:
            return available[name].spec
        clash = next((clash for clash in self.name_clashes("backend") if clash.name == name), None)
        if clash is not None:
            hint = f" ({install_hint(name)})" if clash.reserved_for else ""
            raise BackendError(f"backend {name!r} is not available: {clash.describe()}{hint}")
        broken = [record for record in self.records.values() if not record.ok and _may_provide(record, name)]
        if broken:
            raise BackendError(f"backend {name!r} is installed but broken: {broken[0].label()}: "
                               f"{broken[0].error}")
        installed = f"installed backends: {sorted(available) or 'none'}"
        if name in KNOWN_BACKENDS:
            raise BackendError(f"backend {name!r} is not installed; {install_hint(name)} ({installed})")
        hint = did_you_mean(name, [*available, *KNOWN_BACKENDS])
        raise BackendError(f"unknown backend {name!r}{hint}; {installed}")

    def commands(self, builtin: Mapping[str, click.Command]) -> dict[str, click.Command]:
        """The commands plugins add to the ``heron`` group, whose own commands are ``builtin``.

        Each plugin's ``heron_commands`` gets a group of its own; its commands are then merged by name with
        ``builtin`` (heron-core's, never replaced) and the other plugins', as the module docstring says.
        """
        from click import Group

        try:
            version = importlib.metadata.version(CORE_DISTRIBUTION)
        except importlib.metadata.PackageNotFoundError:  # run from a source tree
            version = "?"
        cli_record = PluginRecord("heron", CLI_MODULE, CORE_DISTRIBUTION, version)
        offers: list[tuple[PluginRecord, Mapping[str, click.Command]]] = [(cli_record, builtin)]
        for record, impl in self._implementations("heron_commands"):
            group = Group(ENTRY_POINT_GROUP)
            if self._call_one(record, "heron_commands", impl, {"cli": group})[0]:
                offers.append((record, dict(group.commands)))
        merged = self._merge("heron_commands", "command", offers)
        return {name: command for name, (command, record) in merged.items() if record is not cli_record}


_manager: HeronPluginManager | None = None


def get_plugin_manager() -> HeronPluginManager:
    """The process-wide plugin manager, created and loaded on first use."""
    global _manager
    if _manager is None:
        manager = HeronPluginManager()
        manager.load_entrypoints()
        _manager = manager
    return _manager


def reset_plugin_manager() -> None:
    """Forget the plugin manager so the next use reloads plugins (tests, after installs)."""
    global _manager
    _manager = None
