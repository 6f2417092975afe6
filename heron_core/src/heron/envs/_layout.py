"""Precomputed observation layout: who sees which slice of the state vector.

Visibility is resolved once when the env is built, so a step only gathers
precomputed index arrays from one flat state vector.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from heron.agents.base import Agent
from heron.agents.constants import SYSTEM_LEVEL
from heron.core.feature import Feature


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
        slots_by_agent: dict[str, list[FeatureSlot]] = {}
        start = 0
        for agent in agents:
            slots_by_agent[agent.agent_id] = []
            for name, feature in agent.state.features.items():
                slot = FeatureSlot(agent.agent_id, name, start, start + feature.dim)
                start = slot.stop
                self.slots.append(slot)
                slots_by_agent[agent.agent_id].append(slot)
        self.size = start
        self.features = [feature for agent in agents for feature in agent.state.features.values()]
        self.fields: list[tuple[Feature, str]] = [  # (feature, field name) in state order
            (feature, name) for feature in self.features for name in feature.field_names
        ]
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
