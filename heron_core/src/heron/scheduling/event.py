"""Events of event-driven runs: their types, default priorities and the :class:`Event` record.

Events at the same timestamp run by priority (lower first), then in the
order they were scheduled. The default priorities put a simulation step
before everything else at its timestamp (it integrates the interval that
ends there, under the actions in effect during it), then action effects,
env updates and messages (they act from that moment on), then ticks and
observations.
"""

from __future__ import annotations

import enum
from typing import Any, NamedTuple

__all__ = ["DEFAULT_PRIORITY", "Event", "EventType"]


class EventType(str, enum.Enum):
    """What an event does (see :mod:`heron.scheduling.runner` for the cascade).

    The built-in run schedules the first five. ``ENV_UPDATE`` (an exogenous
    change of the plant) and ``CUSTOM`` (a domain-specific signal) are for
    your own :meth:`~heron.scheduling.EventScheduler.run_until` handlers.
    """

    SIMULATION = "simulation"
    ACTION_EFFECT = "action_effect"
    MESSAGE_DELIVERY = "message_delivery"
    AGENT_TICK = "agent_tick"
    OBSERVATION_READY = "observation_ready"
    ENV_UPDATE = "env_update"
    CUSTOM = "custom"


DEFAULT_PRIORITY: dict[EventType, int] = {
    EventType.SIMULATION: 0,
    EventType.ACTION_EFFECT: 1,
    EventType.ENV_UPDATE: 1,
    EventType.MESSAGE_DELIVERY: 2,
    EventType.CUSTOM: 2,
    EventType.AGENT_TICK: 3,
    EventType.OBSERVATION_READY: 4,
}


class Event(NamedTuple):
    """One event; scheduled events order by ``(timestamp, priority, sequence)``.

    Build one with keywords (``Event(timestamp=1.0, event_type=EventType.AGENT_TICK,
    agent_id="room_a")``) and pass it to :meth:`EventScheduler.schedule`, which
    queues a copy with ``priority`` (default: :data:`DEFAULT_PRIORITY` of its type)
    and a unique ``sequence`` filled in.
    """

    timestamp: float
    priority: int | None = None
    sequence: int | None = None
    event_type: EventType | None = None
    agent_id: str | None = None
    payload: Any = None
