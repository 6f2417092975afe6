"""ScheduleConfig: validation, builders, level defaults, dict conversion and jitter sampling."""

from __future__ import annotations

import math

import numpy as np
import pytest

from heron.agents import CoordinatorAgent, FieldAgent, SystemAgent
from heron.core import ConfigError
from heron.scheduling import (
    DEFAULT_COORDINATOR_AGENT_SCHEDULE_CONFIG,
    DEFAULT_FIELD_AGENT_SCHEDULE_CONFIG,
    DEFAULT_SYSTEM_AGENT_SCHEDULE_CONFIG,
    JitterType,
    ScheduleConfig,
)
from heron.scheduling.schedule_config import MIN_TICK_FACTOR


def test_builders_set_the_documented_fields():
    fixed = ScheduleConfig.deterministic(tick_interval=2.0, obs_delay=0.1, act_delay=0.2, msg_delay=0.3)
    assert (fixed.tick_interval, fixed.obs_delay, fixed.act_delay, fixed.msg_delay) == (2.0, 0.1, 0.2, 0.3)
    assert fixed.jitter_type is JitterType.NONE and not fixed.jittered
    jittered = ScheduleConfig.with_jitter(tick_interval=1.0, obs_delay=0.1, act_delay=0.2,
                                          jitter_type=JitterType.GAUSSIAN, jitter_ratio=0.1, seed=42)
    assert jittered.jitter_type is JitterType.GAUSSIAN and jittered.jitter_ratio == 0.1 and jittered.seed == 42
    assert jittered.jittered
    assert ScheduleConfig.with_jitter(jitter_type="uniform").jitter_type is JitterType.UNIFORM


def test_level_defaults_order_field_coordinator_system_and_fit_a_100_time_unit_episode():
    field, coordinator, system = (
        DEFAULT_FIELD_AGENT_SCHEDULE_CONFIG,
        DEFAULT_COORDINATOR_AGENT_SCHEDULE_CONFIG,
        DEFAULT_SYSTEM_AGENT_SCHEDULE_CONFIG,
    )
    assert field.tick_interval < coordinator.tick_interval < system.tick_interval <= 100.0 / 10


def test_each_agent_class_starts_with_its_level_default_and_keeps_a_given_config():
    assert SystemAgent("operator").schedule_config is DEFAULT_SYSTEM_AGENT_SCHEDULE_CONFIG
    assert CoordinatorAgent("building").schedule_config is DEFAULT_COORDINATOR_AGENT_SCHEDULE_CONFIG
    assert FieldAgent.default_schedule_config is DEFAULT_FIELD_AGENT_SCHEDULE_CONFIG
    given = ScheduleConfig(tick_interval=3.0)
    assert CoordinatorAgent("building", schedule_config=given).schedule_config is given


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tick_interval": 0.0}, "tick_interval must be a positive number, got 0.0"),
        ({"tick_interval": -1}, "tick_interval must be a positive number, got -1"),
        ({"tick_interval": math.nan}, "tick_interval must be a positive number, got nan"),
        ({"obs_delay": -0.1}, "obs_delay must be a non-negative number, got -0.1"),
        ({"act_delay": -1e-9}, "act_delay must be a non-negative number"),
        ({"msg_delay": math.inf}, "msg_delay must be a non-negative number, got inf"),
        ({"jitter_type": "uniform", "jitter_ratio": -0.1}, r"jitter_ratio must be a number in \[0, 1\], got -0.1"),
        ({"jitter_type": "uniform", "jitter_ratio": 1.5}, r"jitter_ratio must be a number in \[0, 1\], got 1.5"),
        ({"jitter_ratio": 0.2}, "jitter_type is 'none'"),
        ({"jitter_type": "poisson"}, "jitter_type must be one of"),
        ({"obs_delay": 0.1, "act_delay": 0.2, "min_delay": 0.15},
         r"min_delay=0.15 exceeds \['obs_delay', 'msg_delay'\]"),
        ({"min_delay": -0.5}, "min_delay must be a non-negative number"),
        ({"tick_interval": "1"}, "tick_interval must be a positive number, got '1'"),
        ({"seed": 1.5}, "seed must be a non-negative integer, got 1.5"),
        ({"seed": True}, "seed must be a non-negative integer, got True"),
        ({"seed": -1}, "seed must be a non-negative integer, got -1"),
    ],
)
def test_invalid_values_are_clear_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ScheduleConfig(**kwargs)


def test_with_jitter_checks_the_jitter_type_like_the_constructor():
    message = r"ScheduleConfig\.jitter_type must be one of \['none', 'uniform', 'gaussian'\], got 'poisson'"
    with pytest.raises(ConfigError, match=message):
        ScheduleConfig.with_jitter(jitter_type="poisson")


def test_dict_round_trip_and_unknown_keys():
    config = ScheduleConfig.with_jitter(tick_interval=2.0, obs_delay=0.5, jitter_type="gaussian", jitter_ratio=0.2,
                                        seed=3)
    data = config.to_dict()
    assert data["jitter_type"] == "gaussian"
    assert ScheduleConfig.from_dict(data) == config
    with pytest.raises(ConfigError, match=r"agent 'room_a': unknown key\(s\) \['tick'\]"):
        ScheduleConfig.from_dict({"tick": 1.0}, "agent 'room_a'")
    with pytest.raises(ConfigError, match=r"agent 'room_a': ScheduleConfig\.tick_interval must be a positive number"):
        ScheduleConfig.from_dict({"tick_interval": 0}, "agent 'room_a'")


def test_replace_validates_and_rejects_unknown_fields():
    config = ScheduleConfig()
    assert config.replace(obs_delay=2.0).obs_delay == 2.0
    assert config.obs_delay == 0.0
    with pytest.raises(ConfigError, match="obs_delay must be a non-negative number"):
        config.replace(obs_delay=-1.0)
    with pytest.raises(ConfigError, match=r"no field\(s\) \['obs_latency'\]"):
        config.replace(obs_latency=1.0)


def test_without_jitter_sampling_returns_the_nominal_values():
    config = ScheduleConfig.deterministic(tick_interval=1.5, obs_delay=0.25)
    rng = np.random.default_rng(0)
    assert config.sample_tick_interval(rng) == 1.5
    assert config.sample_delay(0.25, rng) == 0.25
    assert config.sample_tick_interval(None) == 1.5


@pytest.mark.parametrize("jitter_type", ["uniform", "gaussian"])
def test_jittered_delays_are_never_below_min_delay_and_ticks_always_advance(jitter_type):
    config = ScheduleConfig.with_jitter(tick_interval=1.0, obs_delay=0.1, act_delay=0.1, msg_delay=0.1,
                                        jitter_type=jitter_type, jitter_ratio=1.0, min_delay=0.05)
    rng = np.random.default_rng(1)
    delays = np.array([config.sample_delay(0.1, rng) for _ in range(5000)])
    ticks = np.array([config.sample_tick_interval(rng) for _ in range(5000)])
    assert delays.min() >= 0.05
    assert (delays == 0.05).any(), "ratio 1 must hit the floor sometimes, else the test proves nothing"
    assert delays.max() > 0.1
    assert ticks.min() >= MIN_TICK_FACTOR * 1.0 - 1e-12
    assert np.std(ticks) > 0.2


def test_uniform_jitter_stays_within_its_ratio():
    config = ScheduleConfig.with_jitter(tick_interval=2.0, obs_delay=1.0, jitter_type="uniform", jitter_ratio=0.1)
    rng = np.random.default_rng(2)
    ticks = np.array([config.sample_tick_interval(rng) for _ in range(2000)])
    delays = np.array([config.sample_delay(1.0, rng) for _ in range(2000)])
    assert 1.8 <= ticks.min() < 1.85 and 2.15 < ticks.max() <= 2.2
    assert 0.9 <= delays.min() and delays.max() <= 1.1
