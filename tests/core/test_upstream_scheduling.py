"""Upstream HERON's scheduling API: ScheduleConfig.get_*, Event/EventScheduler as its tutorials use them,
EpisodeAnalyzer(verbose=, track_data=) and the summary keys upstream scripts read."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest

from heron.core import ConfigError, UnknownAgentError
from heron.demo_envs.thermostat import ProportionalController, thermostat_config
from heron.envs import build_env
from heron.scheduling import (
    DEFAULT_COORDINATOR_AGENT_SCHEDULE_CONFIG,
    DEFAULT_FIELD_AGENT_SCHEDULE_CONFIG,
    DEFAULT_SYSTEM_AGENT_SCHEDULE_CONFIG,
    EpisodeAnalyzer,
    EpisodeStats,
    Event,
    EventAnalysis,
    EventDrivenStats,
    EventScheduler,
    EventType,
    JitterType,
    ScheduleConfig,
)
from heron.training import make_env

from .event_driven_fixtures import BuildingController

JITTERED = ScheduleConfig.with_jitter(tick_interval=1.0, obs_delay=0.1, act_delay=0.2, jitter_type="gaussian",
                                      jitter_ratio=0.1)


def run(env, policies, t_end, analyzer=None, seed=0, **options):
    env.reset(seed=seed, jitter_seed=seed)
    env.set_agent_policies(policies)
    return env.run_event_driven(t_end, analyzer, **options)


def thermostats():
    env = make_env("thermostat", max_steps=30)
    return env, {aid: ProportionalController() for aid in env.possible_agents}


def building():
    env = build_env(thermostat_config(num_rooms=2, max_steps=50, coordinator_protocol="vertical"))
    return env, {"building": BuildingController(2)}


# ------------------------------------------------------------------ ScheduleConfig.get_*
def test_get_methods_of_a_deterministic_config_return_the_nominal_values():
    config = ScheduleConfig(tick_interval=0.5, obs_delay=0.05, act_delay=0.1, msg_delay=0.02)
    assert [config.get_tick_interval() for _ in range(10)] == [0.5] * 10
    assert (config.get_obs_delay(), config.get_act_delay(), config.get_msg_delay()) == (0.05, 0.1, 0.02)


def test_get_tick_interval_draws_the_documented_jitter_from_the_configs_seed():
    config = ScheduleConfig.with_jitter(tick_interval=2.0, jitter_type=JitterType.GAUSSIAN, jitter_ratio=0.1, seed=42)
    draws = np.random.default_rng(42).normal(0.0, 0.1, size=8)
    assert [config.get_tick_interval() for _ in range(8)] == pytest.approx(2.0 * (1.0 + draws), rel=1e-12)
    again = ScheduleConfig.with_jitter(tick_interval=2.0, jitter_type="gaussian", jitter_ratio=0.1, seed=42)
    assert again.get_tick_interval() == pytest.approx(2.0 * (1.0 + draws[0]), rel=1e-12)
    assert again == config  # sampling is not part of the value


@pytest.mark.parametrize(("jitter_type", "std"), [("uniform", 0.2 / math.sqrt(3)), ("gaussian", 0.2)])
def test_get_samples_follow_their_distribution(jitter_type, std):
    config = ScheduleConfig.with_jitter(tick_interval=1.0, obs_delay=0.5, jitter_type=jitter_type, jitter_ratio=0.2,
                                        seed=3)
    ticks = np.array([config.get_tick_interval() for _ in range(4000)])
    delays = np.array([config.get_obs_delay() for _ in range(4000)])
    assert ticks.mean() == pytest.approx(1.0, abs=0.02) and ticks.std() == pytest.approx(std, rel=0.08)
    assert delays.mean() == pytest.approx(0.5, abs=0.01)
    if jitter_type == "uniform":
        assert 0.8 <= ticks.min() and ticks.max() <= 1.2


def test_get_samples_never_change_an_event_driven_run():
    env, policies = thermostats()
    first = run(env, policies, 20.0, schedule=JITTERED, seed=5)
    for _ in range(100):
        JITTERED.get_tick_interval(), JITTERED.get_obs_delay(), JITTERED.get_act_delay()
    second = run(env, policies, 20.0, schedule=JITTERED, seed=5)
    assert second.agent_returns == first.agent_returns and second.num_events == first.num_events


def test_jitter_ratio_defaults_to_ten_percent_with_jitter_and_zero_without():
    assert ScheduleConfig().jitter_ratio == 0.0
    gaussian = ScheduleConfig(jitter_type=JitterType.GAUSSIAN)
    assert gaussian.jitter_ratio == 0.1 and gaussian.jittered
    assert not ScheduleConfig(jitter_type="uniform", jitter_ratio=0.0).jittered  # an explicit 0 stays 0
    assert ScheduleConfig.with_jitter().jitter_type is JitterType.GAUSSIAN
    with pytest.raises(ConfigError, match="jitter_type is 'none'"):
        ScheduleConfig(jitter_ratio=0.1)


def test_level_defaults_are_one_two_and_four_time_units_without_jitter():
    ticks = [config.tick_interval for config in (DEFAULT_FIELD_AGENT_SCHEDULE_CONFIG,
                                                 DEFAULT_COORDINATOR_AGENT_SCHEDULE_CONFIG,
                                                 DEFAULT_SYSTEM_AGENT_SCHEDULE_CONFIG)]
    assert ticks == [1.0, 2.0, 4.0]
    assert all(config.jitter_type.value == "none" for config in (DEFAULT_FIELD_AGENT_SCHEDULE_CONFIG,
                                                                DEFAULT_COORDINATOR_AGENT_SCHEDULE_CONFIG,
                                                                DEFAULT_SYSTEM_AGENT_SCHEDULE_CONFIG))


def test_the_default_coordinator_tick_re_decides_through_a_training_episode_where_upstreams_would_not():
    env, policies = building()
    default = run(env, policies, 50.0)
    upstream = run(env, policies, 50.0, schedule={"building": ScheduleConfig(tick_interval=60.0)})
    assert default.events_by_type["observation_ready"] == 26  # t = 0, 2, ..., 50
    assert upstream.events_by_type["observation_ready"] == 1
    assert default.agent_returns["building"] > upstream.agent_returns["building"] + 100


# ------------------------------------------------------------------ Event and EventScheduler
def test_events_built_with_keywords_get_their_types_default_priority_unless_given():
    scheduler = EventScheduler(start_time=0.0)
    for event in [
        Event(timestamp=1.0, event_type=EventType.AGENT_TICK, agent_id="sensor_a", payload={"step": 1}),
        Event(timestamp=0.5, event_type=EventType.OBSERVATION_READY, agent_id="sensor_a"),
        Event(timestamp=1.0, event_type=EventType.ACTION_EFFECT, agent_id="sensor_a", priority=0),
        Event(timestamp=1.0, event_type=EventType.MESSAGE_DELIVERY, agent_id="sensor_b", priority=2),
        Event(timestamp=0.2, event_type=EventType.ENV_UPDATE, agent_id="system"),
    ]:
        scheduler.schedule(event)
    seen = []
    while scheduler.event_queue:
        event = scheduler.pop()
        assert scheduler.current_time == event.timestamp
        seen.append((event.timestamp, event.event_type.value, event.agent_id, event.priority))
    assert seen == [
        (0.2, "env_update", "system", 1),
        (0.5, "observation_ready", "sensor_a", 4),
        (1.0, "action_effect", "sensor_a", 0),
        (1.0, "message_delivery", "sensor_b", 2),
        (1.0, "agent_tick", "sensor_a", 3),
    ]
    assert scheduler.pop() is None and scheduler.peek() is None


def test_schedule_returns_the_queued_copy_and_positional_events_follow_upstreams_field_order():
    scheduler = EventScheduler()
    built = Event(2.0, 5, None, EventType.CUSTOM, "a", {"k": 1})
    queued = scheduler.schedule(built)
    assert built.sequence is None and queued.sequence is not None
    assert (queued.timestamp, queued.priority, queued.event_type) == (2.0, 5, EventType.CUSTOM)
    assert queued.payload == {"k": 1}
    assert scheduler.peek() is queued
    again = scheduler.schedule(queued)
    assert again.sequence > queued.sequence


def test_badly_built_events_are_clear_errors():
    scheduler = EventScheduler()
    with pytest.raises(ConfigError, match=r"needs an EventType, got event_type=None for agent 'a'"):
        scheduler.schedule(Event(timestamp=1.0, agent_id="a"))
    with pytest.raises(ConfigError, match=r"needs an EventType, got event_type='agent_tick'"):
        scheduler.schedule(Event(timestamp=1.0, event_type="agent_tick"))
    with pytest.raises(ConfigError, match="takes the Event alone"):
        scheduler.schedule(Event(timestamp=1.0, event_type=EventType.AGENT_TICK), agent_id="a")
    with pytest.raises(ConfigError, match="events may not go back in time"):
        EventScheduler(start_time=3.0).schedule(Event(timestamp=1.0, event_type=EventType.AGENT_TICK))
    assert len(scheduler) == 0


def test_the_clock_can_be_set_but_not_past_a_pending_event():
    scheduler = EventScheduler()
    scheduler.schedule(2.0, EventType.AGENT_TICK, "a")
    scheduler.current_time = 1.5
    assert scheduler.now == 1.5
    with pytest.raises(ConfigError, match=r"cannot move the clock to t=2.5: an event is pending at t=2.0"):
        scheduler.current_time = 2.5
    with pytest.raises(ConfigError, match="current_time must be a finite number, got nan"):
        scheduler.current_time = math.nan


def test_env_update_and_custom_events_run_with_your_own_handlers_and_max_events_limits_a_run():
    scheduler = EventScheduler()
    for t in range(4):
        scheduler.schedule(float(t), EventType.ENV_UPDATE, "system")
        scheduler.schedule(float(t), EventType.CUSTOM, "room_a")
    seen = []
    handlers = {EventType.ENV_UPDATE: seen.append, EventType.CUSTOM: seen.append}
    assert scheduler.run_until(10.0, handlers, max_events=3) == 3
    assert [event.event_type for event in seen] == [EventType.ENV_UPDATE, EventType.CUSTOM, EventType.ENV_UPDATE]
    assert scheduler.agent_counts == {"system": 2, "room_a": 1}
    with pytest.raises(ConfigError, match="max_events must be a positive integer, got 0"):
        scheduler.run_until(10.0, handlers, max_events=0)


# ------------------------------------------------------------------ EpisodeAnalyzer and the summary
def test_track_data_records_decisions_and_the_event_timeline():
    analyzer = EpisodeAnalyzer(verbose=False, track_data=True)
    assert analyzer.record_decisions and analyzer.record_events and not analyzer.record_states
    env, policies = building()
    stats = run(env, policies, 6.0, analyzer, schedule=JITTERED.replace(msg_delay=0.3))
    timeline = stats.event_analyses
    assert len(timeline) == stats.num_events and all(isinstance(entry, EventAnalysis) for entry in timeline)
    assert [entry.timestamp for entry in timeline] == sorted(entry.timestamp for entry in timeline)
    messages = [entry for entry in timeline if entry.event_type is EventType.MESSAGE_DELIVERY]
    assert messages and {entry.message_type for entry in messages} == {"coordinator_action"}
    assert {entry.message_type for entry in timeline if entry not in messages} == {None}
    assert analyzer.get_event_log() == [(e.timestamp, e.event_type.value, e.agent_id) for e in timeline]


def test_the_timeline_needs_recording():
    env, policies = thermostats()
    stats = run(env, policies, 3.0, EpisodeAnalyzer())
    with pytest.raises(ConfigError, match=r"record_events=True\) \(or track_data=True\)"):
        _ = stats.event_analyses


def test_verbose_logs_every_event(caplog):
    env, policies = thermostats()
    with caplog.at_level(logging.INFO, logger="heron.scheduling"):
        stats = run(env, policies, 3.0, EpisodeAnalyzer(verbose=True))
    assert len(caplog.records) == stats.num_events
    assert caplog.records[0].getMessage() == "t=0.000 agent_tick room_a"
    assert stats.timeline is None  # logging alone keeps no timeline


def test_summary_has_upstreams_keys_counted_from_the_run():
    env, policies = building()
    analyzer = EpisodeAnalyzer(track_data=True)
    stats = run(env, policies, 20.0, analyzer, schedule=JITTERED.replace(msg_delay=0.3))
    summary = stats.summary()
    timeline = stats.event_analyses
    assert summary["event_counts"] == {kind: n for kind, n in summary["events_by_type"].items() if n}
    assert "env_update" not in summary["event_counts"]
    by_agent = {}
    for entry in timeline:
        if entry.agent_id is not None:
            by_agent[entry.agent_id] = by_agent.get(entry.agent_id, 0) + 1
    assert summary["agent_event_counts"] == by_agent and None not in summary["agent_event_counts"]
    assert sum(by_agent.values()) + summary["event_counts"]["simulation"] == summary["num_events"]
    assert summary["message_type_counts"] == {"coordinator_action": summary["event_counts"]["message_delivery"]}
    assert summary["observations"] == summary["event_counts"]["observation_ready"]
    assert summary["state_updates"] == summary["sim_steps"] == 20
    reports = sum(len(entries) for entries in analyzer.get_reward_history().values())
    assert summary["action_results"] == reports == stats.reward_reports > 0
    assert (summary["start_time"], summary["end_time"], summary["duration"]) == (0.0, 20.0, 20.0)


def test_a_run_without_messages_has_no_message_types_and_upstream_only_keys_explain_themselves():
    env, policies = thermostats()
    summary = run(env, policies, 5.0).summary()
    assert summary["message_type_counts"] == {}
    with pytest.raises(KeyError, match="upstream HERON counted its proxy's get_global_state_response messages"):
        summary["global_states"]
    with pytest.raises(KeyError, match="'no_such_key'"):
        summary["no_such_key"]


def test_max_events_ends_a_run_early_at_its_last_event():
    env, policies = thermostats()
    analyzer = EpisodeAnalyzer(record_events=True)
    stats = run(env, policies, 30.0, analyzer, schedule=JITTERED, max_events=25)
    assert stats.num_events == 25 and stats.pending_events > 0
    assert stats.duration == stats.event_analyses[-1].timestamp < 30.0
    full = run(env, policies, 30.0, schedule=JITTERED)
    assert full.duration == 30.0 and full.num_events > 25
    exact = run(env, policies, 30.0, schedule=JITTERED, max_events=full.num_events)
    assert exact.duration == 30.0
    with pytest.raises(ConfigError, match="max_events must be a positive integer"):
        run(env, policies, 30.0, max_events=2.5)


def test_reward_history_of_one_agent():
    env, policies = thermostats()
    analyzer = EpisodeAnalyzer()
    run(env, policies, 4.0, analyzer)
    history = analyzer.get_reward_history()
    assert analyzer.get_reward_history("room_a") == {"room_a": history["room_a"]}
    with pytest.raises(UnknownAgentError, match=r"no reward history for agent 'attic'"):
        analyzer.get_reward_history("attic")


def test_upstreams_scheduling_names_import_from_heron_scheduling():
    assert EpisodeStats is EventDrivenStats
    assert {kind.value for kind in EventType} >= {"agent_tick", "observation_ready", "action_effect", "simulation",
                                                  "message_delivery", "env_update", "custom"}
