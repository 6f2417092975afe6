"""Events of event-driven runs: their types, default priorities and the :class:`Event` record.

Events at the same timestamp run by priority (lower first), then in the
order they were scheduled. The default priorities put a simulation step
before everything else at its timestamp (it integrates the interval that
ends there, under the actions in effect during it), then action effects and
messages (they act from that moment on), then ticks and observations.
"""

from __future__ import annotations

import enum
from typing import Any, NamedTuple

__all__ = ["DEFAULT_PRIORITY", "Event", "EventType"]


class EventType(str, enum.Enum):
    """What an event does (see :mod:`heron.scheduling.runner` for the cascade)."""

    SIMULATION = "simulation"
    ACTION_EFFECT = "action_effect"
    MESSAGE_DELIVERY = "message_delivery"
    AGENT_TICK = "agent_tick"
    OBSERVATION_READY = "observation_ready"


DEFAULT_PRIORITY: dict[EventType, int] = {
    EventType.SIMULATION: 0,
    EventType.ACTION_EFFECT: 1,
    EventType.MESSAGE_DELIVERY: 2,
    EventType.AGENT_TICK: 3,
    EventType.OBSERVATION_READY: 4,
}


class Event(NamedTuple):
    """One scheduled event; tuples order by ``(timestamp, priority, seq)`` and ``seq`` is unique."""

    timestamp: float
    priority: int
    seq: int
    type: EventType
    agent_id: str | None = None
    payload: Any = None
