"""The two ways a simulation function can see the agents' state.

By default a simulation function receives a copy of every agent's features as
``{agent_id: {feature_name: {field: value}}}`` and returns the next state in
the same shape; the env writes it back into the features.

A function decorated with :func:`in_place_simulation` instead receives the
agents' live :class:`~heron.core.feature.Feature` objects as read-only
mappings ``{agent_id: {feature_name: feature}}``, sets their fields directly
and returns ``None``. It skips the copy and the write-back, which is most of
what the env spends on the simulation. Either way the env checks the new
state: every field keeps the kind of value it held when the env was built (one
real number in a scalar field, never an array; the same count of numbers in an
array field) and holds no NaN or infinity (see :mod:`heron.core.feature`).

Example::

    @in_place_simulation
    def cool(features):
        for agent_features in features.values():
            room = agent_features["RoomTempFeature"]
            room.temperature -= 0.1 * (room.temperature - 15.0)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from heron.core.errors import ConfigError
from heron.core.feature import Feature

__all__ = [
    "AgentStates",
    "InPlaceSimulationFn",
    "LiveFeatures",
    "SimulationFn",
    "in_place_simulation",
]

AgentStates = dict[str, dict[str, dict[str, Any]]]
SimulationFn = Callable[[AgentStates], AgentStates]
LiveFeatures = Mapping[str, Mapping[str, Feature]]
InPlaceSimulationFn = Callable[[LiveFeatures], None]

_MARKER = "__heron_in_place__"
_F = TypeVar("_F", bound=Callable[..., Any])


def in_place_simulation(function: _F) -> _F:
    """Mark ``function`` as an in-place simulation: it gets :data:`LiveFeatures` and returns ``None``."""
    if not callable(function):
        raise ConfigError(f"in_place_simulation expects a function, got {function!r}")
    try:
        setattr(function, _MARKER, True)
    except AttributeError as exc:
        raise ConfigError(
            f"cannot mark {function!r} as an in-place simulation; decorate the function it calls instead"
        ) from exc
    return function


def is_in_place(function: Callable[..., Any] | None) -> bool:
    """Whether ``function`` was decorated with :func:`in_place_simulation`."""
    return getattr(function, _MARKER, False) is True
