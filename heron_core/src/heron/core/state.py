"""An agent's state: its features by name."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from heron.core.errors import ConfigError, SimulationError
from heron.core.feature import Feature

__all__ = ["State"]


class State:
    """The features an agent holds, by feature name (insertion order is vector order)."""

    def __init__(self, features: Iterable[Feature], owner: str) -> None:
        self.owner = owner
        self.features: dict[str, Feature] = {}
        if isinstance(features, (Feature, str)) or not isinstance(features, Iterable):
            raise ConfigError(f"agent {owner!r}: features must be a list of Feature instances, got {features!r}")
        for feature in features:
            if not isinstance(feature, Feature):
                raise ConfigError(f"agent {owner!r}: {feature!r} is not a Feature instance")
            if feature.name in self.features:
                raise ConfigError(f"agent {owner!r} has two features named {feature.name!r}")
            self.features[feature.name] = feature

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """``{feature_name: {field: value}}`` (copies)."""
        return {name: feature.values() for name, feature in self.features.items()}

    def update(self, values: Mapping[str, Mapping[str, Any]]) -> None:
        """Write ``{feature_name: {field: value}}`` into the features."""
        if not isinstance(values, (dict, Mapping)):
            raise SimulationError(
                f"agent {self.owner!r}: expected a {{feature_name: {{field: value}}}} dict, got {values!r}"
            )
        for name, fields in values.items():
            feature = self.features.get(name)
            if feature is None:
                raise SimulationError(
                    f"agent {self.owner!r} has no feature {name!r}; its features are {list(self.features)}"
                )
            if not isinstance(fields, (dict, Mapping)):
                raise SimulationError(
                    f"agent {self.owner!r} feature {name!r}: expected a {{field: value}} dict, got {fields!r}"
                )
            feature.set_values(fields)

    def arrays(self) -> dict[str, np.ndarray]:
        """``{feature_name: vector}``: what ``compute_local_reward`` receives."""
        return {name: feature.vector() for name, feature in self.features.items()}

    def vector(self) -> np.ndarray:
        """All features flattened, in order."""
        parts = [feature.vector() for feature in self.features.values()]
        return np.concatenate(parts) if parts else np.zeros(0)
