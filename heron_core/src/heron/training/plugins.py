"""Loading plugins from the ``heron`` entry-point group, and what they provide.

Plugins are loaded one by one: a plugin that fails to import, implements a
hook that does not exist, implements a hook as a wrapper, or whose hook
raises, is recorded as broken with its error, and the other plugins keep
working. ``heron backends`` shows both. Hook implementations are called one
by one, in the order pluggy's own hook call uses (see
:mod:`heron.training.hookspecs`).

Environment variables:

* ``HERON_LOAD_PLUGINS``: comma-separated entry-point names of third-party
  plugins to load (set but empty: load none). Unset: load every installed
  plugin. heron-core's own plugin (the demo environments) always loads.
* ``HERON_PLUGINS_RAISE=1``: re-raise plugin errors instead of recording
  them (for plugin authors).
* ``HERON_DEBUG``: print the traceback of a hook that raises.
"""

from __future__ import annotations

import importlib.metadata
import os
import traceback
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Protocol, TypeVar

import pluggy

from heron.core.errors import BackendError
from heron.training import hookspecs
from heron.training.backends import BackendSpec

__all__ = ["ENTRY_POINT_GROUP", "get_plugin_manager", "reset_plugin_manager"]

ENTRY_POINT_GROUP = "heron"
CORE_DISTRIBUTION = "heron-core"
WRAPPERS_UNSUPPORTED = (
    "HERON does not support hook wrappers: each heron hook returns one result per plugin and HERON calls "
    "every plugin on its own, so there is no combined call to wrap; drop the wrapper option and return the result"
)


class Named(Protocol):
    """What a hook's results are merged by: their name."""

    @property
    def name(self) -> str: ...


NamedT = TypeVar("NamedT", bound=Named)


@dataclass
class PluginRecord:
    """One plugin: where it comes from and whether it works."""

    name: str
    module: str
    distribution: str
    version: str
    error: str | None = None
    hooks: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class BackendEntry:
    """A backend together with the plugin that provides it."""

    spec: BackendSpec
    plugin: PluginRecord


def _is_core(entry_point: importlib.metadata.EntryPoint) -> bool:
    dist = entry_point.dist
    return dist is not None and dist.metadata["Name"] == CORE_DISTRIBUTION


def _raise_errors() -> bool:
    return os.environ.get("HERON_PLUGINS_RAISE", "") not in ("", "0")


def _allowed_names() -> set[str] | None:
    value = os.environ.get("HERON_LOAD_PLUGINS")
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


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


def _clash_problem(
    hook_name: str, items: Sequence[Named], found: Mapping[str, tuple[Named, PluginRecord]], what: str
) -> str | None:
    """The error for the first of ``items`` whose name an earlier-called plugin already provides, or None."""
    for item in items:
        if item.name in found:
            other = found[item.name][1].name
            return (
                f"{hook_name} returned {what} name {item.name!r}, which is already provided by plugin {other!r} "
                f"(called before it); expected {what} names unique across plugins"
            )
    return None


class HeronPluginManager:
    """The pluggy manager for the ``heron`` hooks, with per-plugin error records."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.records: dict[str, PluginRecord] = {}

    # -------------------------------------------------------------- loading
    def load_entrypoints(self) -> None:
        """Load the plugins of the ``heron`` entry-point group: heron-core's own first, then the others.

        Third-party plugins are subject to ``HERON_LOAD_PLUGINS``.
        """
        allowed = _allowed_names()
        entry_points = sorted(
            importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: not _is_core(ep)
        )
        for entry_point in entry_points:
            if allowed is not None and entry_point.name not in allowed and not _is_core(entry_point):
                continue
            if entry_point.name in self.records:
                continue
            dist = entry_point.dist
            record = PluginRecord(
                entry_point.name,
                entry_point.value,
                dist.metadata["Name"] if dist else "?",
                dist.version if dist else "?",
            )
            self.records[record.name] = record
            try:
                plugin = entry_point.load()
            except Exception as exc:
                self._broken(record, f"import failed: {type(exc).__name__}: {exc}", exc)
                continue
            self._register(plugin, record)

    def register_plugin(self, plugin: ModuleType | object, name: str, distribution: str = "?") -> PluginRecord:
        """Register a plugin object directly (tests, notebooks); returns its record."""
        record = PluginRecord(name, getattr(plugin, "__name__", repr(plugin)), distribution, "?")
        self._register(plugin, record)
        return record

    def _register(self, plugin: Any, record: PluginRecord) -> None:
        self.records[record.name] = record
        try:
            self.pm.register(plugin, name=record.name)
        except Exception as exc:  # pluggy.PluginValidationError, ValueError for duplicates
            self._broken(record, f"invalid hook implementation: {exc}", exc)
            return
        callers = self.pm.get_hookcallers(plugin) or []
        problem = self._registration_problem(plugin, callers)
        if problem is not None:
            self.pm.unregister(plugin)
            self._broken(record, problem)
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

    def _broken(self, record: PluginRecord, message: str, exc: BaseException | None = None) -> None:
        record.error = message
        if _raise_errors():
            if exc is not None:
                raise exc
            raise BackendError(f"plugin {record.name!r}: {message}")

    @staticmethod
    def hook_names() -> list[str]:
        return sorted(name for name in dir(hookspecs) if name.startswith("heron_"))

    # -------------------------------------------------------------- calling
    def call_each(self, hook_name: str, **kwargs: Any) -> Iterator[tuple[PluginRecord, Any]]:
        """Call every implementation of ``hook_name`` on its own; a raising plugin is marked broken.

        The order is pluggy's call order, the reverse of ``get_hookimpls()``: tryfirst implementations,
        then plain ones (last registered first), then trylast ones.
        """
        caller = getattr(self.pm.hook, hook_name)
        for impl in reversed(caller.get_hookimpls()):
            record = self.records[impl.plugin_name]
            if not record.ok:
                continue
            try:
                result = _call(impl, kwargs)
            except Exception as exc:
                self._broken(record, f"hook {hook_name} raised {type(exc).__name__}: {exc}", exc)
                if os.environ.get("HERON_DEBUG"):
                    traceback.print_exc()
                continue
            yield record, result

    def collect_named(self, hook_name: str, kind: type[NamedT], what: str) -> dict[str, tuple[NamedT, PluginRecord]]:
        """Every ``kind`` object the plugins return from ``hook_name``, by name, with its plugin.

        Plugins are taken in pluggy's call order. A plugin whose result is not a list of ``kind`` objects with
        distinct names, or offers a name an earlier-called plugin provides, is marked broken and contributes
        nothing (``what`` names the objects in that error, e.g. ``"backend"``).
        """
        found: dict[str, tuple[NamedT, PluginRecord]] = {}
        for record, result in self.call_each(hook_name):
            items = [] if result is None else result
            problem = _result_problem(hook_name, items, kind) or _clash_problem(hook_name, items, found, what)
            if problem is not None:
                self._broken(record, problem)
                continue
            found.update((item.name, (item, record)) for item in items)
        return found

    def backends(self) -> dict[str, BackendEntry]:
        """Every working backend by name (see :func:`heron.training.hookspecs.heron_backends` for how they merge)."""
        found = self.collect_named("heron_backends", BackendSpec, "backend")
        return {name: BackendEntry(spec, record) for name, (spec, record) in found.items()}

    def backend(self, name: str) -> BackendSpec:
        """The backend called ``name``, or a BackendError listing what is installed."""
        available = self.backends()
        if name in available:
            return available[name].spec
        broken = [r for r in self.records.values() if not r.ok and r.name == name]
        if broken:
            raise BackendError(f"backend {name!r} is installed but broken: {broken[0].error}")
        raise BackendError(
            f"unknown backend {name!r}; installed backends: {sorted(available) or 'none'} "
            f"(install one, e.g. pip install heron-backend-{name.replace('_', '-')})"
        )


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
