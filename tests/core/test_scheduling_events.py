"""EventScheduler: ordering by time, priority and insertion; no time travel; t_end; stop; missing handlers."""

from __future__ import annotations

import math

import pytest

from heron.core import ConfigError
from heron.scheduling import EventScheduler, EventType
from heron.scheduling.event import DEFAULT_PRIORITY


def collect(scheduler, t_end=math.inf):
    seen = []
    handlers = {kind: seen.append for kind in EventType}
    scheduler.run_until(t_end, handlers)
    return seen


def test_events_run_by_timestamp_then_priority_then_insertion_order():
    scheduler = EventScheduler()
    scheduler.schedule(2.0, EventType.AGENT_TICK, "late")
    scheduler.schedule(1.0, EventType.OBSERVATION_READY, "obs")
    scheduler.schedule(1.0, EventType.AGENT_TICK, "tick_first")
    scheduler.schedule(1.0, EventType.AGENT_TICK, "tick_second")
    scheduler.schedule(1.0, EventType.SIMULATION)
    scheduler.schedule(1.0, EventType.ACTION_EFFECT, "effect")
    scheduler.schedule(1.0, EventType.AGENT_TICK, "urgent", priority=-1)
    order = [(event.timestamp, event.agent_id) for event in collect(scheduler)]
    assert order == [
        (1.0, "urgent"),
        (1.0, None),
        (1.0, "effect"),
        (1.0, "tick_first"),
        (1.0, "tick_second"),
        (1.0, "obs"),
        (2.0, "late"),
    ]


def test_simulation_comes_first_at_equal_timestamps():
    assert min(DEFAULT_PRIORITY, key=DEFAULT_PRIORITY.get) is EventType.SIMULATION
    assert DEFAULT_PRIORITY[EventType.ACTION_EFFECT] < DEFAULT_PRIORITY[EventType.AGENT_TICK]


def test_events_cannot_be_scheduled_in_the_past_or_at_nan():
    scheduler = EventScheduler(start_time=5.0)
    with pytest.raises(ConfigError, match=r"at t=4.0: the scheduler is at t=5.0"):
        scheduler.schedule(4.0, EventType.AGENT_TICK, "a")
    with pytest.raises(ConfigError, match="at t=nan"):
        scheduler.schedule(math.nan, EventType.AGENT_TICK, "a")
    scheduler.schedule(5.0, EventType.AGENT_TICK, "a")
    assert len(scheduler) == 1


def test_handlers_scheduling_new_events_keep_time_non_decreasing():
    scheduler = EventScheduler()
    times = []

    def tick(event):
        times.append(event.timestamp)
        scheduler.schedule(event.timestamp + 0.7, EventType.AGENT_TICK, event.agent_id)
        scheduler.schedule(event.timestamp + 0.3, EventType.OBSERVATION_READY, event.agent_id)

    def observe(event):
        times.append(event.timestamp)

    for agent in ("a", "b"):
        scheduler.schedule(0.0, EventType.AGENT_TICK, agent)
    ran = scheduler.run_until(5.0, {EventType.AGENT_TICK: tick, EventType.OBSERVATION_READY: observe})
    assert times == sorted(times)
    assert max(times) <= 5.0
    assert ran == len(times) == scheduler.processed
    assert scheduler.counts[EventType.AGENT_TICK] == 2 * 8  # t = 0, 0.7, ..., 4.9
    assert all(event.timestamp > 5.0 for event in scheduler.event_queue)


def test_stop_ends_the_run_after_the_current_event():
    scheduler = EventScheduler()
    for t in range(5):
        scheduler.schedule(float(t), EventType.AGENT_TICK, "a")
    seen = []

    def tick(event):
        seen.append(event.timestamp)
        if event.timestamp == 2.0:
            scheduler.stop()

    scheduler.run_until(10.0, {EventType.AGENT_TICK: tick})
    assert seen == [0.0, 1.0, 2.0]
    assert scheduler.now == 2.0 and len(scheduler) == 2


def test_an_event_without_handler_is_an_error():
    scheduler = EventScheduler()
    scheduler.schedule(0.0, EventType.MESSAGE_DELIVERY, "a")
    with pytest.raises(ConfigError, match="no handler for message_delivery"):
        scheduler.run_until(1.0, {EventType.AGENT_TICK: lambda event: None})
