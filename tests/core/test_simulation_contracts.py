"""The two simulation contracts (dict copies, in place) and what agents see of the state."""

from __future__ import annotations

import numpy as np
import pytest

from heron.core import ConfigError, SimulationError
from heron.demo_envs.thermostat import (
    AMBIENT_TEMPERATURE,
    COOLING_RATE,
    LEAKAGE_RATE,
    Thermostat,
    thermostat_config,
    thermostat_simulation,
)
from heron.envs import build_env, in_place_simulation
from heron.envs.simulation import is_in_place


def dict_thermostat(agent_states):
    """The built-in thermostat's simulation written against the dict contract."""
    rooms = [state["RoomTempFeature"] for state in agent_states.values()]
    mean = sum(room["temperature"] for room in rooms) / len(rooms)
    for room in rooms:
        temperature = room["temperature"]
        room["temperature"] = (
            temperature + COOLING_RATE * (AMBIENT_TEMPERATURE - temperature) + LEAKAGE_RATE * (mean - temperature)
        )
    return agent_states


def env_with(simulation, num_rooms=3):
    return build_env({**thermostat_config(num_rooms=num_rooms), "simulation": simulation})


def trajectory(env, seed=5, steps=15):
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(0)
    trace = [np.concatenate([o.vector() for o in obs.values()])]
    for _ in range(steps):
        obs, rewards, *_ = env.step({aid: rng.uniform(-1.5, 1.5, 1) for aid in env.agents})
        trace.append(np.concatenate([o.vector() for o in obs.values()] + [list(rewards.values())]))
    return np.concatenate(trace)


def test_the_builtin_thermostat_simulates_in_place():
    assert is_in_place(thermostat_simulation)
    assert not is_in_place(dict_thermostat)


def test_in_place_and_dict_simulations_of_the_same_dynamics_give_the_same_trajectory():
    np.testing.assert_array_equal(trajectory(env_with(thermostat_simulation)), trajectory(env_with(dict_thermostat)))


def test_in_place_simulation_gets_the_live_features_in_read_only_mappings():
    seen = []

    @in_place_simulation
    def spy(features):
        seen.append(features)
        features["room_a"]["RoomTempFeature"].temperature = 30.0

    env = env_with(spy, num_rooms=2)
    env.reset(seed=0)
    obs, rewards, *_ = env.step({"room_a": [0.0], "room_b": [0.0]})
    features = seen[0]
    assert features["room_b"]["RoomTempFeature"] is env.agent("room_b").state.features["RoomTempFeature"]
    assert obs["room_a"].local_vector()[0] == 30.0
    assert rewards["room_a"] == -8.0
    with pytest.raises(TypeError):
        features["room_c"] = {}
    with pytest.raises(TypeError):
        features["room_a"]["Other"] = None


def test_in_place_simulation_that_returns_a_value_is_an_error():
    @in_place_simulation
    def returns_states(features):
        return dict(features)

    env = env_with(returns_states)
    env.reset(seed=0)
    with pytest.raises(SimulationError, match="in_place_simulation sets the features and returns None, got dict"):
        env.step({aid: [0.0] for aid in env.agents})


def test_in_place_simulation_writing_nan_names_the_agent_and_feature():
    @in_place_simulation
    def breaks(features):
        features["room_b"]["RoomTempFeature"].temperature = float("nan")

    env = env_with(breaks)
    env.reset(seed=0)
    with pytest.raises(SimulationError, match="agent 'room_b' feature 'RoomTempFeature' holds NaN"):
        env.step({aid: [0.0] for aid in env.agents})


def test_in_place_simulation_needs_something_that_can_carry_the_mark():
    with pytest.raises(ConfigError, match="expects a function"):
        in_place_simulation(42)
    with pytest.raises(ConfigError, match="cannot mark"):
        in_place_simulation([].append)


def test_reward_sees_the_current_own_state_as_read_only_views():
    seen = []

    class Recording(Thermostat):
        def compute_local_reward(self, local_state):
            seen.append((self.agent_id, float(local_state["RoomTempFeature"][0])))
            with pytest.raises(ValueError, match="read-only"):
                local_state["RoomTempFeature"][0] = 0.0
            with pytest.raises(TypeError):
                local_state["Other"] = np.zeros(1)
            return super().compute_local_reward(local_state)

    config = thermostat_config(num_rooms=2)
    for agent in config["agents"]:
        agent["agent_cls"] = Recording
    env = build_env(config)
    env.reset(seed=1)
    for _ in range(3):
        seen.clear()
        env.step({"room_a": [0.5], "room_b": [-0.5]})
        current = [(aid, env.agent(aid).state.features["RoomTempFeature"].temperature) for aid in ("room_a", "room_b")]
        assert seen == current
