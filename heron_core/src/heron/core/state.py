"""An agent's state: its features by name, with the owner's id and hierarchy level.

:class:`FieldAgentState`, :class:`CoordinatorAgentState` and
:class:`SystemAgentState` are the states of the three levels (1, 2, 3); the
owner's level then defaults to the class's. Example::

    state = FieldAgentState(owner_id="battery_0", features=[BatteryCharge(), GridVoltage()])
    state.observed_by("zone_0", 2)   # {feature_name: vector} of what zone_0 may see
    state.update_feature("BatteryCharge", soc=0.6)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, TypeVar

import numpy as np

from heron.core.errors import ConfigError, SimulationError, add_origin_note
from heron.core.feature import Feature, _check_level, feature_class_named

__all__ = ["CoordinatorAgentState", "FieldAgentState", "State", "SystemAgentState"]

S = TypeVar("S", bound="State")

_BASE_SET_VALUES = Feature.set_values
_METADATA_KEYS = frozenset({"_owner_id", "_owner_level", "_state_type", "features"})
_STATE_CLASSES: dict[str, type[State]] = {}


class State:
    """The features an agent holds, by feature name (insertion order is vector order).

    Args:
        owner_id: the id of the agent holding the features.
        owner_level: its hierarchy level (1 field, 2 coordinator, 3 system); a
            subclass for one level (:class:`FieldAgentState`, ...) defaults to it.
        features: Feature instances, as a list or as ``{feature_name: feature}``.
        upper_id: the id of the owner's direct superior, when known: who sees
            its ``"upper_level"`` features (see :meth:`observed_by`).

    ``state.features`` is ``{feature_name: feature}``. Assigning it a list or a
    dict of features checks them and keys them by name; reading it is a plain
    attribute read (agents read it on every step).
    """

    level: ClassVar[int | None] = None
    features: dict[str, Feature]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _STATE_CLASSES[cls.__name__] = cls

    def __init__(
        self,
        owner_id: str,
        owner_level: int | None = None,
        features: Mapping[str, Feature] | Iterable[Feature] | None = None,
        *,
        upper_id: str | None = None,
    ) -> None:
        if not isinstance(owner_id, str) or not owner_id:
            raise ConfigError(f"{type(self).__name__}: owner_id must be a non-empty string, got {owner_id!r}")
        self.owner_id = owner_id
        self.owner_level = self._owner_level(owner_level)
        self.upper_id = upper_id
        self.features = {} if features is None else features

    def _owner_level(self, owner_level: Any) -> int:
        cls = type(self)
        if owner_level is None:
            if cls.level is None:
                raise ConfigError(f"{cls.__name__} of {self.owner_id!r} needs owner_level")
            return cls.level
        level = _check_level(owner_level, f"{cls.__name__} of {self.owner_id!r}: owner_level")
        if cls.level is not None and level != cls.level:
            raise ConfigError(
                f"{cls.__name__} is the state of a level-{cls.level} agent, but {self.owner_id!r} has "
                f"owner_level={level}; use the state class of that level, or State(owner_id, owner_level, ...)"
            )
        if level < 1:
            raise ConfigError(f"{cls.__name__} of {self.owner_id!r}: owner_level must be >= 1, got {level}")
        return level

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "features":
            value = self._checked_features(value)
        object.__setattr__(self, name, value)

    def _checked_features(self, features: Mapping[str, Feature] | Iterable[Feature]) -> dict[str, Feature]:
        """``{feature_name: feature}`` of ``features`` (a list, or a dict keyed by feature name), checked."""
        where = f"agent {self.owner_id!r}"
        if isinstance(features, Mapping):
            for key, feature in features.items():
                if not isinstance(feature, Feature):
                    raise ConfigError(f"{where}: features[{key!r}] is {feature!r}, not a Feature instance")
                if key != feature.feature_name:
                    raise ConfigError(
                        f"{where}: features[{key!r}] holds feature {feature.feature_name!r}; key features by "
                        "their feature_name (give an instance another name with set_feature_name)"
                    )
            return dict(features)
        if isinstance(features, (Feature, str)) or not isinstance(features, Iterable):
            raise ConfigError(f"{where}: features must be a list of Feature instances, got {features!r}")
        out: dict[str, Feature] = {}
        for feature in features:
            if not isinstance(feature, Feature):
                raise ConfigError(f"{where}: {feature!r} is not a Feature instance")
            if feature.feature_name in out:
                raise ConfigError(
                    f"{where} has two features named {feature.feature_name!r}; "
                    "give one another name with set_feature_name"
                )
            out[feature.feature_name] = feature
        return out

    # ------------------------------------------------------------ reading
    def vector(self) -> np.ndarray:
        """All features flattened, in order (float64)."""
        parts = [feature.vector() for feature in self.features.values()]
        return np.concatenate(parts) if parts else np.zeros(0)

    def arrays(self) -> dict[str, np.ndarray]:
        """``{feature_name: vector}``: what ``compute_local_reward`` receives."""
        return {name: feature.vector() for name, feature in self.features.items()}

    def observed_by(self, requestor_id: str, requestor_level: int) -> dict[str, np.ndarray]:
        """``{feature_name: float32 vector}`` of the features ``requestor_id`` may observe.

        See :meth:`Feature.is_observable_by`; the owner's superior is :attr:`upper_id`.
        """
        return {
            name: feature.vector().astype(np.float32)
            for name, feature in self.features.items()
            if feature.is_observable_by(requestor_id, requestor_level, self.owner_id, self.owner_level, self.upper_id)
        }

    # ------------------------------------------------------------ writing
    def update(self, updates: Mapping[str, Mapping[str, Any]]) -> None:
        """Write ``{feature_name: {field: value}}``, through each feature's ``set_values(**fields)``.

        This is how the env writes simulation results, so a feature's ``set_values`` override is honoured.
        """
        if type(updates) is not dict and not isinstance(updates, Mapping):
            raise SimulationError(
                f"agent {self.owner_id!r}: expected a {{feature_name: {{field: value}}}} dict, got {updates!r}"
            )
        features = self.features
        for name, fields in updates.items():
            feature = features.get(name)
            if feature is None:
                raise self._unknown_feature(name)
            if type(fields) is not dict and not isinstance(fields, Mapping):
                raise SimulationError(
                    f"agent {self.owner_id!r} feature {name!r}: expected a {{field: value}} dict, got {fields!r}"
                )
            if type(feature).set_values is _BASE_SET_VALUES:
                feature.set_values(fields)  # the same as set_values(**fields), without unpacking
                continue
            try:
                feature.set_values(**fields)
            except Exception as exc:
                add_origin_note(exc, self.owner_id, f"{type(feature).__name__}.set_values(**fields)")
                raise

    def update_feature(self, feature_name: str, **values: Any) -> None:
        """``set_values(**values)`` on the feature named ``feature_name``."""
        feature = self.features.get(feature_name)
        if feature is None:
            raise self._unknown_feature(feature_name)
        feature.set_values(**values)

    def _unknown_feature(self, name: str) -> SimulationError:
        return SimulationError(
            f"agent {self.owner_id!r} has no feature {name!r}; its features are {list(self.features)}"
        )

    def reset(self, overrides: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        """Reset every feature to its declared defaults, then apply ``overrides`` as :meth:`update` does."""
        for feature in self.features.values():
            feature.reset()
        if overrides is not None:
            self.update(overrides)

    # ------------------------------------------------------ serialization
    def to_dict(self, include_metadata: bool = False) -> dict[str, Any]:
        """``{feature_name: {field: value}}`` (copies).

        With ``include_metadata``: ``{"_owner_id", "_owner_level", "_state_type",
        "features"}``, what :meth:`from_dict` reads back.
        """
        features = {name: feature.values() for name, feature in self.features.items()}
        if not include_metadata:
            return features
        return {
            "_owner_id": self.owner_id,
            "_owner_level": self.owner_level,
            "_state_type": type(self).__name__,
            "features": features,
        }

    @classmethod
    def from_dict(cls: type[S], data: Mapping[str, Any]) -> S:
        """Rebuild a state from ``to_dict(include_metadata=True)``.

        On :class:`State` itself the class is the one ``_state_type`` names;
        features are rebuilt from their class names (``Feature.from_dict``).
        """
        if not isinstance(data, Mapping) or not {"_owner_id", "features"} <= data.keys() <= _METADATA_KEYS:
            raise ConfigError(
                f"{cls.__name__}.from_dict expects the dict of to_dict(include_metadata=True), with keys "
                f"{sorted(_METADATA_KEYS)} ('_owner_level' and '_state_type' optional), got {data!r}"
            )
        state_cls = cls._class_for(data.get("_state_type"))
        features = data["features"]
        if not isinstance(features, Mapping):
            raise ConfigError(f"{cls.__name__}.from_dict: 'features' must be {{feature_name: {{field: value}}}}, "
                              f"got {features!r}")
        return state_cls(
            data["_owner_id"],
            data.get("_owner_level"),
            [feature_class_named(name).from_dict(fields) for name, fields in features.items()],
        )

    @classmethod
    def _class_for(cls, state_type: Any) -> type[State]:
        if state_type is None:
            return cls
        found = _STATE_CLASSES.get(state_type) if isinstance(state_type, str) else None
        if found is None or not issubclass(found, cls):
            raise ConfigError(
                f"{cls.__name__}.from_dict: _state_type {state_type!r} is not {cls.__name__} or one of its "
                f"subclasses ({sorted(name for name, c in _STATE_CLASSES.items() if issubclass(c, cls))})"
            )
        return found

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.owner_id!r}, level={self.owner_level}, features={list(self.features)})"


_STATE_CLASSES[State.__name__] = State


class FieldAgentState(State):
    """The state of a field agent (level 1)."""

    level: ClassVar[int | None] = 1


class CoordinatorAgentState(State):
    """The state of a coordinator (level 2)."""

    level: ClassVar[int | None] = 2


class SystemAgentState(State):
    """The state of the system agent (level 3)."""

    level: ClassVar[int | None] = 3
