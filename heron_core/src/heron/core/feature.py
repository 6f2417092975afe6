"""Features: the named, typed pieces of an agent's state.

A feature is a dataclass whose fields become vector entries, in declaration
order. Its class-level ``visibility`` decides who observes it:

* ``"owner"``: the agent that holds the feature;
* ``"upper_level"``: the owner's direct superior (its coordinator, or the
  system agent for an agent without coordinator);
* ``"system"``: the system agent at the top of the hierarchy;
* ``"public"``: every agent, through the shared ``global_info`` part of the
  observation (and the owner, its superior and the system agent as above).

Example::

    @dataclass
    class RoomTempFeature(Feature):
        visibility = ["public"]
        temperature: float = 20.0
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from heron.core._flatten import flatten
from heron.core.errors import ConfigError, SimulationError

__all__ = ["VISIBILITY_LEVELS", "Feature"]

_IMMUTABLE = frozenset({float, int, bool, str, np.float64, np.float32, np.int64, np.int32, np.bool_})

VISIBILITY_LEVELS: frozenset[str] = frozenset({"public", "owner", "upper_level", "system"})


def _check_visibility(owner: str, visibility: Any) -> tuple[str, ...]:
    if isinstance(visibility, str) or not isinstance(visibility, (list, tuple, set, frozenset)):
        raise ConfigError(
            f"{owner}.visibility must be a list of strings from {sorted(VISIBILITY_LEVELS)}, "
            f"got {visibility!r}"
        )
    unknown = [level for level in visibility if level not in VISIBILITY_LEVELS]
    if unknown:
        raise ConfigError(
            f"{owner}.visibility has unknown level(s) {unknown}; "
            f"expected a subset of {sorted(VISIBILITY_LEVELS)}"
        )
    if not visibility:
        raise ConfigError(f"{owner}.visibility is empty; nobody could observe this feature")
    return tuple(visibility)


class Feature:
    """Base class of all features.

    Subclasses are dataclasses (decorating them with ``@dataclass`` is
    optional: an undecorated subclass is turned into one when first
    instantiated). The feature's name is its class name.
    """

    visibility: ClassVar[tuple[str, ...]] = ("owner",)
    _field_names: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.visibility = _check_visibility(cls.__name__, cls.__dict__.get("visibility", cls.visibility))

    def __new__(cls, *args: Any, **kwargs: Any) -> Feature:
        if cls is Feature:
            raise TypeError("Feature is abstract: subclass it with dataclass fields")
        if "__dataclass_fields__" not in cls.__dict__:
            dataclasses.dataclass(cls)
        if "_field_names" not in cls.__dict__:
            names = tuple(f.name for f in dataclasses.fields(cls))
            if "visibility" in names:
                raise ConfigError(
                    f"{cls.__name__}.visibility must be a class attribute, not a dataclass field"
                )
            if not names:
                raise ConfigError(f"feature {cls.__name__} has no fields")
            cls._field_names = names
        return super().__new__(cls)

    @property
    def name(self) -> str:
        """The feature's name: its class name."""
        return type(self).__name__

    @property
    def field_names(self) -> tuple[str, ...]:
        """Field names, in vector order."""
        return self._field_names

    def values(self) -> dict[str, Any]:
        """The field values as a ``{field: value}`` dict (copies of mutable values)."""
        out: dict[str, Any] = {}
        for name in self._field_names:
            value = getattr(self, name)
            out[name] = value if type(value) in _IMMUTABLE else copy.deepcopy(value)
        return out

    def set_values(self, values: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        """Set field values; an unknown field name is an error."""
        if values is not None and not isinstance(values, (dict, Mapping)):
            raise SimulationError(f"feature {self.name}: expected a {{field: value}} dict, got {values!r}")
        if kwargs:
            values = {**(values or {}), **kwargs}
        elif not values:
            return
        names = self._field_names
        for key, value in values.items():
            if key not in names:
                raise SimulationError(f"feature {self.name} has no field {key!r}; its fields are {list(names)}")
            setattr(self, key, value)

    def vector(self) -> np.ndarray:
        """The fields flattened into one float64 vector, in declaration order."""
        return flatten({name: getattr(self, name) for name in self._field_names}, self.name)

    @property
    def dim(self) -> int:
        """Length of :meth:`vector`."""
        return int(self.vector().size)

    def is_visible_to(self, level: str) -> bool:
        """Whether ``level`` (a visibility string) may observe this feature."""
        return level in self.visibility or "public" in self.visibility
