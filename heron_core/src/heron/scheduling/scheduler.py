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

__all__ = ["EventScheduler"]


class EventScheduler:
    """A discrete-event queue.

    Args:
        start_time: the clock's initial value; nothing may be scheduled before it.

    Example::

        scheduler = EventScheduler()
        scheduler.schedule(1.0, EventType.AGENT_TICK, "room_a")
        scheduler.run_until(10.0, {EventType.AGENT_TICK: on_tick})
    """

    def __init__(self, start_time: float = 0.0) -> None:
        self.now = float(start_time)
        self._queue: list[Event] = []
        self._seq = itertools.count()
        self._stopped = False
        self.counts: dict[EventType, int] = dict.fromkeys(EventType, 0)

    def __len__(self) -> int:
        return len(self._queue)

    @property
    def processed(self) -> int:
        """Number of events run so far."""
        return sum(self.counts.values())

    def schedule(
        self,
        timestamp: float,
        event_type: EventType,
        agent_id: str | None = None,
        payload: Any = None,
        priority: int | None = None,
    ) -> Event:
        """Queue an event at ``timestamp`` (not before the current time)."""
        if not timestamp >= self.now or not math.isfinite(timestamp):
            raise ConfigError(
                f"cannot schedule {event_type.value} for {agent_id!r} at t={timestamp}: "
                f"the scheduler is at t={self.now} (events may not go back in time)"
            )
        if priority is None:
            priority = DEFAULT_PRIORITY[event_type]
        event = Event(timestamp, priority, next(self._seq), event_type, agent_id, payload)
        heapq.heappush(self._queue, event)
        return event

    def pop(self) -> Event:
        """Remove the next event and advance the clock to it."""
        event = heapq.heappop(self._queue)
        self.now = event.timestamp
        return event

    def stop(self) -> None:
        """Make :meth:`run_until` return after the event being handled."""
        self._stopped = True

    def run_until(self, t_end: float, handlers: Mapping[EventType, Callable[[Event], None]]) -> int:
        """Run every event with ``timestamp <= t_end`` (or until :meth:`stop`); return how many ran.

        An event without a handler is an error. Events after ``t_end`` stay queued.
        """
        self._stopped = False
        queue, counts, heappop = self._queue, self.counts, heapq.heappop
        ran = 0
        while queue and queue[0].timestamp <= t_end:
            event = heappop(queue)
            self.now = event.timestamp
            handler = handlers.get(event.type)
            if handler is None:
                raise ConfigError(f"no handler for {event.type.value} events (handlers: {[t.value for t in handlers]})")
            handler(event)
            counts[event.type] += 1
            ran += 1
            if self._stopped:
                break
        return ran
