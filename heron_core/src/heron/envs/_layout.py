"""Precomputed state layout: which field fills which entries of the state vector, and who sees which slice.

Visibility and every field's shape are resolved once when the env is built,
so a step only reads the fields, checks them against their :class:`FieldSpec`
and gathers precomputed index arrays from one flat state vector.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np

from heron.agents.base import Agent
from heron.agents.constants import SYSTEM_LEVEL
from heron.core._flatten import collect_into, flatten
from heron.core.errors import ObservationError
from heron.core.feature import Feature

#: Scalar values a scalar field may hold (numpy's floats and ints are ``Real``; complex numbers are not).
SCALAR_TYPES = (Real, np.bool_)


@dataclass(frozen=True)
class FieldSpec:
    """What one feature field must go on holding: the kind of value it held when the env was built.

    ``size`` is ``None`` for a scalar field (one real number: ``bool``, ``int``, ``float`` or a numpy
    scalar, never an array), else the fixed count of numbers its array, list or dict flattens to.
    """

    agent_id: str
    feature_name: str
    field_name: str
    size: int | None
    built_as: str

    @classmethod
    def of(cls, agent_id: str, feature: Feature, field_name: str) -> FieldSpec:
        """The spec of ``feature.field_name`` from its current value (raises if it is not numeric)."""
        value = getattr(feature, field_name)
        if isinstance(value, SCALAR_TYPES):
            return cls(agent_id, feature.name, field_name, None, type(value).__name__)
        size = flatten(value, f"{feature.name}.{field_name}").size
        shape = f" of shape {value.shape}" if isinstance(value, np.ndarray) else f" of {size} numbers"
        return cls(agent_id, feature.name, field_name, size, type(value).__name__ + shape)

    @property
    def expected(self) -> str:
        """What the field must hold, for error messages."""
        if self.size is None:
            return f"a real number (the field held a {self.built_as} when the env was built)"
        return f"{self.size} numbers (the field held a {self.built_as} when the env was built)"

    def collect(self, value: Any, out: list[float]) -> str | None:
        """Append the numbers of ``value`` to ``out``; what ``value`` is when it does not fit, else ``None``."""
        if self.size is None:
            if not isinstance(value, SCALAR_TYPES):
                return describe(value)
            out.append(float(value))
            return None
        if isinstance(value, SCALAR_TYPES):
            return describe(value)
        start = len(out)
        try:
            collect_into(value, "", out)
        except ObservationError as exc:
            return f"{describe(value)}, not all numbers ({exc})"
        if len(out) - start != self.size:
            return f"{describe(value)}, {len(out) - start} numbers"
        return None


def describe(value: Any, limit: int = 200) -> str:
    """``value``'s repr (cut at ``limit`` characters) and its type, e.g. ``array([1., 2.]) (ndarray of shape (2,))``."""
    text = repr(value)
    if len(text) > limit:
        text = text[:limit] + "..."
    shape = f" of shape {value.shape}" if isinstance(value, np.ndarray) else ""
    return f"{text} ({type(value).__name__}{shape})"


@dataclass(frozen=True)
class FeatureSlot:
    """Where one agent's feature lives in the flat state vector."""

    agent_id: str
    feature_name: str
    start: int
    stop: int

    @property
    def key(self) -> str:
        return f"{self.agent_id}.{self.feature_name}"


@dataclass(frozen=True)
class AgentView:
    """What one agent observes: ``(key, slice)`` pairs and their gathered indices."""

    local: tuple[tuple[str, slice], ...]
    local_index: np.ndarray | slice
    own: tuple[tuple[str, slice], ...]


def _local_entries(agent: Agent, slots_by_agent: dict[str, list[FeatureSlot]], all_agents: Sequence[Agent]):
    entries: list[tuple[str, FeatureSlot]] = []
    seen: set[tuple[str, str]] = set()

    def add(key: str, slot: FeatureSlot) -> None:
        if (slot.agent_id, slot.feature_name) not in seen:
            seen.add((slot.agent_id, slot.feature_name))
            entries.append((key, slot))

    for slot in slots_by_agent[agent.agent_id]:
        feature = agent.state.features[slot.feature_name]
        if feature.is_visible_to("owner"):
            add(slot.feature_name, slot)
    for sub in agent.subordinates.values():
        for slot in slots_by_agent[sub.agent_id]:
            if sub.state.features[slot.feature_name].is_visible_to("upper_level"):
                add(slot.key, slot)
    if agent.level == SYSTEM_LEVEL:
        for other in all_agents:
            for slot in slots_by_agent[other.agent_id]:
                if "system" in other.state.features[slot.feature_name].visibility:
                    add(slot.key, slot)
    return entries


class StateLayout:
    """The flat state vector of all agents' features, and every agent's view of it."""

    def __init__(self, agents: Sequence[Agent]) -> None:
        self.slots: list[FeatureSlot] = []
        self.features: list[Feature] = []
        self.fields: list[tuple[Feature, str]] = []  # (feature, field name) in state order
        self.field_specs: list[FieldSpec] = []  # the same order
        slots_by_agent: dict[str, list[FeatureSlot]] = {}
        start = 0
        for agent in agents:
            slots_by_agent[agent.agent_id] = []
            for name, feature in agent.state.features.items():
                specs = [FieldSpec.of(agent.agent_id, feature, field) for field in feature.field_names]
                size = sum(1 if spec.size is None else spec.size for spec in specs)
                slot = FeatureSlot(agent.agent_id, name, start, start + size)
                start = slot.stop
                self.slots.append(slot)
                slots_by_agent[agent.agent_id].append(slot)
                self.features.append(feature)
                self.fields += [(feature, field) for field in feature.field_names]
                self.field_specs += specs
        self.size = start
        #: Whether every field is a scalar: then a state of plain floats and ints needs no per-field check.
        self.all_scalar = all(spec.size is None for spec in self.field_specs)
        self.global_entries: tuple[tuple[str, slice], ...] = tuple(
            (slot.key, slice(slot.start, slot.stop))
            for slot, feature in zip(self.slots, self.features)
            if "public" in feature.visibility
        )
        self.global_index = _indices(self.global_entries)
        self.views: dict[str, AgentView] = {}
        for agent in agents:
            local = tuple((key, slice(s.start, s.stop)) for key, s in _local_entries(agent, slots_by_agent, agents))
            own = tuple((s.feature_name, slice(s.start, s.stop)) for s in slots_by_agent[agent.agent_id])
            self.views[agent.agent_id] = AgentView(local, _indices(local), own)


def _indices(entries: Sequence[tuple[str, slice]]) -> np.ndarray | slice:
    """The state indices of ``entries``: a slice when they are contiguous (a cheap view), else an index array."""
    if not entries:
        return slice(0, 0)
    index = np.concatenate([np.arange(sl.start, sl.stop) for _, sl in entries]).astype(np.intp)
    if index.size and np.array_equal(index, np.arange(index[0], index[0] + index.size)):
        return slice(int(index[0]), int(index[0]) + index.size)
    return index
