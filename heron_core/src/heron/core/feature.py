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

    @dataclass(slots=True)
    class RoomTempFeature(Feature):
        visibility: ClassVar[Sequence[str]] = ["public"]
        temperature: float = 20.0

A subclass may override ``set_values(self, **fields)`` to validate or clip
what it is given: HERON writes simulation results through that method,
always with keyword arguments.

In an env, every field keeps the kind of value it held when the env was
built, and the env checks it after every reset and step (whoever wrote it:
``apply_action``, the simulation, ``on_reset``): a scalar field holds one real
number (``bool``, ``int``, ``float`` or a numpy scalar, read as a float; never
an array, not even of one element, nor a string, ``None`` or a complex
number), an array field (a numpy array, list, tuple or dict of numbers) holds
the same count of numbers, and no field holds NaN or infinity. A wrong value
is a :class:`~heron.core.errors.SimulationError` naming the agent, feature and
field, what was expected and what it holds. Outside an env nothing checks
what a feature holds until its :meth:`Feature.vector` is read.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

import numpy as np

from heron.core._flatten import flatten
from heron.core.errors import ConfigError, SimulationError

__all__ = ["VISIBILITY_LEVELS", "Feature"]

F = TypeVar("F", bound="Feature")

#: Field value types copied by reference (everything else is deep-copied when values are read out).
IMMUTABLE_FIELD_TYPES = frozenset({float, int, bool, str, np.float64, np.float32, np.int64, np.int32, np.bool_})

VISIBILITY_LEVELS: frozenset[str] = frozenset({"public", "owner", "upper_level", "system"})

# The system agent's level (heron.agents.constants.SYSTEM_LEVEL; heron.core imports nothing above it).
_SYSTEM_LEVEL = 3

# Feature classes by class name, then by "module.qualname": what State.from_dict rebuilds features from.
_CLASSES: dict[str, dict[str, type[Feature]]] = {}


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


def _check_level(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ConfigError(f"{what} must be an integer hierarchy level (1 field, 2 coordinator, 3 system), "
                          f"got {value!r}")
    return int(value)


def feature_class_named(name: str) -> type[Feature]:
    """The Feature subclass whose class name is ``name`` (for rebuilding features from dicts)."""
    found = _CLASSES.get(name, {})
    if len(found) == 1:
        return next(iter(found.values()))
    if not found:
        raise ConfigError(
            f"no Feature subclass named {name!r} is defined (import the module that defines it first; "
            "a feature renamed with set_feature_name cannot be rebuilt from its name)"
        )
    raise ConfigError(f"several Feature subclasses are named {name!r} ({sorted(found)}); rename one of them")


class Feature:
    """Base class of all features.

    Subclasses are dataclasses (decorating them with ``@dataclass`` is
    optional: an undecorated subclass is turned into one when first
    instantiated). A feature's name is its class name unless
    :meth:`set_feature_name` gave the instance another one.
    """

    visibility: ClassVar[tuple[str, ...]] = ("owner",)
    _field_names: ClassVar[tuple[str, ...]] = ()
    _instance_name: ClassVar[str | None] = None  # set per instance by set_feature_name

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.visibility = _check_visibility(cls.__name__, cls.__dict__.get("visibility", cls.visibility))
        # @dataclass(slots=True) makes a new class of the same module and qualname: it replaces the first
        _CLASSES.setdefault(cls.__name__, {})[f"{cls.__module__}.{cls.__qualname__}"] = cls

    def __new__(cls, *args: Any, **kwargs: Any) -> Feature:
        cls._prepare()
        return super().__new__(cls)

    @classmethod
    def _prepare(cls) -> None:
        """Make ``cls`` a dataclass (once) and check its field names."""
        if cls is Feature:
            raise TypeError("Feature is abstract: subclass it with dataclass fields")
        if "__dataclass_fields__" not in cls.__dict__:
            dataclasses.dataclass(cls)
        if "_field_names" not in cls.__dict__:
            names = tuple(f.name for f in dataclasses.fields(cls))
            hidden = [name for name in names if name in _RESERVED]
            if hidden:
                raise ConfigError(
                    f"feature {cls.__name__}: field(s) {hidden} would hide Feature's attribute(s) of the same name "
                    "(visibility must be a ClassVar); rename them"
                )
            if not names:
                raise ConfigError(f"feature {cls.__name__} has no fields")
            cls._field_names = names

    # ------------------------------------------------------------------ names
    @property
    def feature_name(self) -> str:
        """The feature's name: the one given by :meth:`set_feature_name`, else its class name."""
        return self._instance_name or type(self).__name__

    name = feature_name

    def set_feature_name(self: F, name: str) -> F:
        """Give this instance its own name (to hold two features of one class); returns ``self``.

        Name it before giving it to an agent: an agent keys its features by name when it is built.
        """
        if not isinstance(name, str) or not name or "." in name:
            raise ConfigError(f"feature {self.feature_name}: a feature name must be a non-empty string "
                              f"without '.', got {name!r}")
        self._instance_name = name
        return self

    @property
    def field_names(self) -> tuple[str, ...]:
        """Field names, in vector order."""
        return self._field_names

    def names(self) -> list[str]:
        """Field names, in vector order (upstream's name for :attr:`field_names`)."""
        return list(self._field_names)

    # ----------------------------------------------------------------- values
    def values(self) -> dict[str, Any]:
        """The field values as a ``{field: value}`` dict (copies of mutable values)."""
        out: dict[str, Any] = {}
        for name in self._field_names:
            value = getattr(self, name)
            out[name] = value if type(value) in IMMUTABLE_FIELD_TYPES else copy.deepcopy(value)
        return out

    def to_dict(self) -> dict[str, Any]:
        """``{field: value}`` (copies): the same as :meth:`values`."""
        return self.values()

    @classmethod
    def from_dict(cls: type[F], data: Mapping[str, Any]) -> F:
        """A new feature with the fields in ``data``; fields left out take their defaults."""
        cls._prepare()
        if not isinstance(data, Mapping):
            raise ConfigError(f"feature {cls.__name__}: from_dict expects a {{field: value}} dict, got {data!r}")
        unknown = [key for key in data if key not in cls._field_names]
        if unknown:
            raise ConfigError(
                f"feature {cls.__name__} has no field(s) {unknown}; its fields are {list(cls._field_names)}"
            )
        init = {f.name for f in dataclasses.fields(cls) if f.init}
        feature = cls(**{key: value for key, value in data.items() if key in init})
        for key in data.keys() - init:
            setattr(feature, key, data[key])
        return feature

    def set_values(self, values: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        """Set fields, e.g. ``set_values(temperature=21.0)``; an unknown field name is an error.

        Override it as ``set_values(self, **fields)`` to validate or clip: HERON
        then calls the override with keyword arguments only.
        """
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

    def reset(self: F, **overrides: Any) -> F:
        """Set every field to its declared default, then ``set_values(**overrides)``; returns ``self``."""
        for f in dataclasses.fields(self):
            if f.default is not dataclasses.MISSING:
                setattr(self, f.name, f.default)
            elif f.default_factory is not dataclasses.MISSING:
                setattr(self, f.name, f.default_factory())
            elif f.name not in overrides:
                raise ConfigError(
                    f"feature {self.name}: field {f.name!r} has no default to reset to; pass reset({f.name}=...)"
                )
        self.set_values(**overrides)
        return self

    def vector(self) -> np.ndarray:
        """The fields flattened into one float64 vector, in declaration order."""
        return flatten({name: getattr(self, name) for name in self._field_names}, self.name)

    @property
    def dim(self) -> int:
        """Length of :meth:`vector`."""
        return int(self.vector().size)

    # ------------------------------------------------------------- visibility
    def is_visible_to(self, level: str) -> bool:
        """Whether ``level`` (a visibility string) may observe this feature."""
        return level in self.visibility or "public" in self.visibility

    def is_observable_by(
        self,
        requestor_id: str,
        requestor_level: int,
        owner_id: str,
        owner_level: int,
        upper_id: str | None = None,
    ) -> bool:
        """Whether agent ``requestor_id`` at ``requestor_level`` may observe this feature of ``owner_id``.

        ``"public"``: everyone; ``"owner"``: ``owner_id`` itself; ``"system"``:
        the system agent (level 3); ``"upper_level"``: the owner's direct
        superior ``upper_id``. When ``upper_id`` is not known (``None``, as for a
        feature outside an env), any agent one level above the owner counts as
        its superior, as in upstream HERON.
        """
        requestor_level = _check_level(requestor_level, "requestor_level")
        owner_level = _check_level(owner_level, "owner_level")
        visibility = self.visibility
        if "public" in visibility:
            return True
        if "owner" in visibility and requestor_id == owner_id:
            return True
        if "system" in visibility and requestor_level >= _SYSTEM_LEVEL:
            return True
        if "upper_level" in visibility:
            if upper_id is not None:
                return requestor_id == upper_id
            return requestor_level == owner_level + 1
        return False


# Names a dataclass field must not take: it would replace the method or property of the same name.
_RESERVED = frozenset(name for name in vars(Feature) if not name.startswith("_"))
