"""The :class:`EventScheduler`: a priority queue of events ordered by time, priority, insertion.

Events at the same timestamp run by priority (lower first), then in the
order they were scheduled (see :data:`~heron.scheduling.event.DEFAULT_PRIORITY`).
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable, Mapping
from typing import Any

from heron.core.errors import ConfigError
from heron.scheduling.event import DEFAULT_PRIORITY, Event, EventType
from heron.utils.validation import check_number

__all__ = ["EventScheduler"]


class EventScheduler:
    """A discrete-event queue.

    Args:
        start_time: the clock's initial value; nothing may be scheduled before it.

    Attributes:
        event_queue: the pending events, a heap (read it; change it through :meth:`schedule` and :meth:`pop`).
        counts: events run by :meth:`run_until`, per event type.
        agent_counts: events run by :meth:`run_until`, per agent id (``None`` for events of no agent).

    Example::

        scheduler = EventScheduler()
        scheduler.schedule(1.0, EventType.AGENT_TICK, "room_a")
        scheduler.schedule(Event(timestamp=2.0, event_type=EventType.AGENT_TICK, agent_id="room_b"))
        scheduler.run_until(10.0, {EventType.AGENT_TICK: on_tick})
    """

    def __init__(self, start_time: float = 0.0) -> None:
        self.now = float(start_time)
        self.event_queue: list[Event] = []
        self._seq = itertools.count()
        self._stopped = False
        self.counts: dict[EventType, int] = dict.fromkeys(EventType, 0)
        self.agent_counts: dict[str | None, int] = {}

    def __len__(self) -> int:
        return len(self.event_queue)

    @property
    def processed(self) -> int:
        """Number of events run so far."""
        return sum(self.counts.values())

    @property
    def current_time(self) -> float:
        """The clock (the timestamp of the last event popped or run)."""
        return self.now

    @current_time.setter
    def current_time(self, value: float) -> None:
        value = check_number(value, "EventScheduler.current_time")
        if self.event_queue and value > self.event_queue[0].timestamp:
            raise ConfigError(
                f"cannot move the clock to t={value}: an event is pending at t={self.event_queue[0].timestamp} "
                "(it would lie in the past)"
            )
        self.now = float(value)

    def schedule(
        self,
        timestamp: float | Event,
        event_type: EventType | None = None,
        agent_id: str | None = None,
        payload: Any = None,
        priority: int | None = None,
    ) -> Event:
        """Queue an event at ``timestamp`` (not before the current time); return the queued event.

        Call it as ``schedule(timestamp, event_type, agent_id, payload, priority)`` or with a
        built :class:`Event` (``schedule(Event(timestamp=..., event_type=..., ...))``). Without
        ``priority`` the event type's default applies.
        """
        if isinstance(timestamp, Event):
            if event_type is not None or agent_id is not None or payload is not None or priority is not None:
                raise ConfigError("schedule(event) takes the Event alone; put the other fields in the Event")
            timestamp, priority, _, event_type, agent_id, payload = timestamp
        if not isinstance(event_type, EventType):
            raise ConfigError(
                f"an event needs an EventType, got event_type={event_type!r} for agent {agent_id!r}; "
                "build events with keywords: Event(timestamp=..., event_type=EventType.AGENT_TICK, ...)"
            )
        if not timestamp >= self.now or not math.isfinite(timestamp):
            raise ConfigError(
                f"cannot schedule {event_type.value} for {agent_id!r} at t={timestamp}: "
                f"the scheduler is at t={self.now} (events may not go back in time)"
            )
        if priority is None:
            priority = DEFAULT_PRIORITY[event_type]
        event = Event(timestamp, priority, next(self._seq), event_type, agent_id, payload)
        heapq.heappush(self.event_queue, event)
        return event

    def peek(self) -> Event | None:
        """The next event, left queued (``None`` when nothing is pending)."""
        return self.event_queue[0] if self.event_queue else None

    def pop(self) -> Event | None:
        """Remove the next event and advance the clock to it (``None`` when nothing is pending)."""
        if not self.event_queue:
            return None
        event = heapq.heappop(self.event_queue)
        self.now = event.timestamp
        return event

    def stop(self) -> None:
        """Make :meth:`run_until` return after the event being handled."""
        self._stopped = True

    def run_until(
        self,
        t_end: float,
        handlers: Mapping[EventType, Callable[[Event], None]],
        max_events: int | None = None,
    ) -> int:
        """Run every event with ``timestamp <= t_end`` (or until :meth:`stop`, or ``max_events``); return how many ran.

        An event without a handler is an error. Events after ``t_end`` stay queued.
        """
        self._stopped = False
        queue, counts, agent_counts, heappop = self.event_queue, self.counts, self.agent_counts, heapq.heappop
        limit = math.inf if max_events is None else check_number(max_events, "max_events", minimum=1, integer=True)
        ran = 0
        while queue and queue[0].timestamp <= t_end and ran < limit:
            event = heappop(queue)
            self.now = event.timestamp
            handler = handlers.get(event.event_type)
            if handler is None:
                raise ConfigError(
                    f"no handler for {event.event_type.value} events (handlers: {[t.value for t in handlers]})"
                )
            handler(event)
            counts[event.event_type] += 1
            agent_counts[event.agent_id] = agent_counts.get(event.agent_id, 0) + 1
            ran += 1
            if self._stopped:
                break
        return ran
