"""Loading plugins from the ``heron`` entry-point group, and what they provide.

Plugins are loaded one by one: a plugin that fails to import, implements a
hook that does not exist, or whose hook raises, is recorded as broken with
its error, and the other plugins keep working. ``heron backends`` shows
both.

Environment variables:

* ``HERON_LOAD_PLUGINS``: comma-separated entry-point names of third-party
  plugins to load (set but empty: load none). Unset: load every installed
  plugin. heron-core's own plugin (the demo environments) always loads.
* ``HERON_PLUGINS_RAISE=1``: re-raise plugin errors instead of recording
  them (for plugin authors).
"""

from __future__ import annotations

import importlib.metadata
import os
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pluggy

from heron.core.errors import BackendError
from heron.training import hookspecs
from heron.training.backends import BackendSpec

__all__ = [
    "ENTRY_POINT_GROUP",
    "HeronPluginManager",
    "PluginRecord",
    "get_plugin_manager",
    "reset_plugin_manager",
]

ENTRY_POINT_GROUP = "heron"
CORE_DISTRIBUTION = "heron-core"


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
        unknown = [caller.name for caller in callers if not caller.has_spec()]
        if unknown:
            self.pm.unregister(plugin)
            self._broken(record, f"implements unknown hook(s) {unknown}; known hooks: {self.hook_names()}")
            return
        if not callers:
            self.pm.unregister(plugin)
            self._broken(record, f"implements no heron hook; known hooks: {self.hook_names()}")
            return
        record.hooks = sorted(caller.name for caller in callers)

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
        """Call every implementation of ``hook_name`` on its own; a raising plugin is marked broken."""
        caller = getattr(self.pm.hook, hook_name)
        for impl in caller.get_hookimpls():  # registration order
            record = self.records[impl.plugin_name]
            if not record.ok:
                continue
            try:
                yield record, impl.function(**{name: kwargs[name] for name in impl.argnames})
            except Exception as exc:
                self._broken(record, f"hook {hook_name} raised {type(exc).__name__}: {exc}", exc)
                if os.environ.get("HERON_DEBUG"):
                    traceback.print_exc()

    def backends(self) -> dict[str, BackendEntry]:
        """Every working backend by name (a name offered twice marks the later plugin broken)."""
        found: dict[str, BackendEntry] = {}
        for record, specs in self.call_each("heron_backends"):
            for spec in specs or ():
                if not isinstance(spec, BackendSpec):
                    self._broken(record, f"heron_backends returned {spec!r}, expected BackendSpec objects")
                    break
                if spec.name in found:
                    other = found[spec.name].plugin.name
                    self._broken(record, f"backend name {spec.name!r} is already provided by plugin {other!r}")
                    break
                found[spec.name] = BackendEntry(spec, record)
        return {name: entry for name, entry in found.items() if entry.plugin.ok}

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
