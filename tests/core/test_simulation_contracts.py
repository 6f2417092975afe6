"""The two simulation contracts (dict copies, in place) and what agents see of the state."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pytest

from heron.agents import FieldAgent
from heron.core import Action, ConfigError, Feature, SimulationError
from heron.demo_envs.thermostat import (
    AMBIENT_TEMPERATURE,
    COOLING_RATE,
    LEAKAGE_RATE,
    Thermostat,
    thermostat_config,
    thermostat_simulation,
)
from heron.envs import DefaultHeronEnv, build_env, in_place_simulation
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


def test_in_place_simulation_writing_nan_names_the_agent_feature_and_field():
    @in_place_simulation
    def breaks(features):
        features["room_b"]["RoomTempFeature"].temperature = float("nan")

    env = env_with(breaks)
    env.reset(seed=0)
    with pytest.raises(SimulationError, match=r"^env 'thermostat_3': agent 'room_b' feature 'RoomTempFeature' field "
                                              r"'temperature' holds NaN or infinity after the step's apply_action and "
                                              r"simulation: nan \(float\); expected finite numbers$"):
        env.step({aid: [0.0] for aid in env.agents})


# ------------------------------------------------- a field keeps the kind of value it was built with
def writing(value, in_place):
    """A simulation that sets room_a's scalar temperature to ``value`` (through the contract ``in_place`` names)."""
    if in_place:
        @in_place_simulation
        def simulation(features):
            features["room_a"]["RoomTempFeature"].temperature = value
        return simulation

    def simulation(agent_states):
        agent_states["room_a"]["RoomTempFeature"]["temperature"] = value
        return agent_states
    return simulation


@pytest.mark.parametrize("in_place", [False, True], ids=["dict", "in_place"])
@pytest.mark.parametrize(("value", "received"), [
    (np.array([1.0, 2.0]), r"array\(\[1\., 2\.\]\) \(ndarray of shape \(2,\)\)"),
    (np.array([21.0]), r"array\(\[21\.\]\) \(ndarray of shape \(1,\)\)"),  # same size: the vector alone hid it
    (np.array(21.0), r"array\(21\.\) \(ndarray of shape \(\)\)"),
    ([21.0], r"\[21\.0\] \(list\)"),
    ("21.5", r"'21\.5' \(str\)"),
    (None, r"None \(NoneType\)"),
    (21 + 0j, r"\(21\+0j\) \(complex\)"),
])
def test_a_scalar_field_set_to_anything_but_a_real_number_names_agent_field_expected_and_received(
        in_place, value, received):
    env = env_with(writing(value, in_place), num_rooms=2)
    env.reset(seed=0)
    with pytest.raises(SimulationError, match=(
            r"^env 'thermostat_2': agent 'room_a' feature 'RoomTempFeature' field 'temperature' holds "
            rf"{received} after the step's apply_action and simulation; expected a real number \(the field held "
            r"a float when the env was built\)$")):
        env.step({aid: [0.0] for aid in env.agents})


@pytest.mark.parametrize("in_place", [False, True], ids=["dict", "in_place"])
@pytest.mark.parametrize("value", [float("inf"), -np.inf, np.float32("nan")])
def test_a_scalar_field_set_to_infinity_or_nan_is_an_error(in_place, value):
    env = env_with(writing(value, in_place), num_rooms=2)
    env.reset(seed=0)
    with pytest.raises(SimulationError, match="agent 'room_a' feature 'RoomTempFeature' field 'temperature' holds "
                                              "NaN or infinity"):
        env.step({aid: [0.0] for aid in env.agents})


@pytest.mark.parametrize("value", [True, 21, np.float32(21.5), np.int64(21), np.float64(21.5)])
def test_a_scalar_field_takes_any_real_number_and_reads_it_as_a_float(value):
    env = env_with(writing(value, in_place=False), num_rooms=2)
    env.reset(seed=0)
    obs, *_ = env.step({aid: [0.0] for aid in env.agents})
    assert obs["room_a"].local_vector()[0] == np.float32(float(value))
    assert env.agent("room_a").state.features["RoomTempFeature"].temperature is value  # kept as written


def test_apply_action_leaving_an_array_in_a_scalar_field_is_an_error():
    class ArrayHeater(Thermostat):
        def apply_action(self):  # a classic slip: c is an array, c[0] was meant
            feature = self.state.features["RoomTempFeature"]
            feature.temperature = feature.temperature + 2.0 * self.action.c

    config = thermostat_config(num_rooms=2)
    config["agents"][1]["agent_cls"] = ArrayHeater
    env = build_env(config)
    env.reset(seed=0)
    with pytest.raises(SimulationError) as error:
        env.step({aid: [0.5] for aid in env.agents})
    # the simulation spread room_b's array to room_a: every field that does not fit is named, one a line
    lines = str(error.value).splitlines()
    assert [line.split(" field")[0] for line in lines] == [
        "env 'thermostat_2': agent 'room_a' feature 'RoomTempFeature'",
        "env 'thermostat_2': agent 'room_b' feature 'RoomTempFeature'",
    ]
    assert re.fullmatch(r".* field 'temperature' holds array\(\[.*\]\) \(ndarray of shape \(1,\)\) after the step's "
                        r"apply_action and simulation; expected a real number \(the field held a float when the env "
                        r"was built\)", lines[1])


def test_on_reset_leaving_an_array_in_a_scalar_field_is_an_error_naming_reset():
    class ArrayStart(Thermostat):
        def on_reset(self, rng):
            self.state.features["RoomTempFeature"].temperature = rng.uniform(15.0, 25.0, 1)

    config = thermostat_config(num_rooms=1)
    config["agents"][0]["agent_cls"] = ArrayStart
    env = build_env(config)
    with pytest.raises(SimulationError, match=r"agent 'room_a' feature 'RoomTempFeature' field 'temperature' holds "
                                              r"array\(.*\(ndarray of shape \(1,\)\) after reset \(the construction "
                                              r"values, then on_reset\); expected a real number"):
        env.reset(seed=0)


@dataclass
class Profile(Feature):
    """A feature with an array field next to a scalar one."""

    visibility = ["public"]
    load: np.ndarray = field(default_factory=lambda: np.zeros(3))
    scale: float = 1.0


class Consumer(FieldAgent):
    def init_action(self, features):
        return Action().set_specs(dim_c=1, range=(np.array([-1.0]), np.array([1.0])))

    def apply_action(self):
        pass

    def compute_local_reward(self, local_state):
        return 0.0


def profile_env(simulation):
    env = DefaultHeronEnv(agents=[Consumer("house", [Profile()])], simulation_func=simulation, env_id="profiles")
    env.reset(seed=0)
    return env


@pytest.mark.parametrize(("value", "received"), [
    (np.zeros(2), r"array\(\[0\., 0\.\]\) \(ndarray of shape \(2,\)\), 2 numbers"),
    (1.0, r"1\.0 \(float\)"),
    (np.array([1.0, "x", 2.0], dtype=object), r"array\(\[1\.0, 'x', 2\.0\], dtype=object\) \(ndarray of shape "
                                              r"\(3,\)\), not all numbers"),
    ([1.0, None, 2.0], r"\[1\.0, None, 2\.0\] \(list\), not all numbers"),
])
def test_an_array_field_must_keep_its_count_of_numbers(value, received):
    def simulation(agent_states):
        agent_states["house"]["Profile"]["load"] = value
        return agent_states

    env = profile_env(simulation)
    with pytest.raises(SimulationError, match=(
            rf"^env 'profiles': agent 'house' feature 'Profile' field 'load' holds {received}.* after the step's "
            r"apply_action and simulation; expected 3 numbers \(the field held a ndarray of shape \(3,\) when the env "
            r"was built\)$")):
        env.step({"house": [0.0]})


def test_an_array_field_takes_the_same_count_of_numbers_in_any_numeric_form_and_names_a_nan_field():
    writes = iter([np.array([1.0, 2.0, 3.0]), [4, 5, 6], (7.0, 8.0, np.float32(9.0)), np.array([1.0, np.nan, 0.0])])

    def simulation(agent_states):
        agent_states["house"]["Profile"]["load"] = next(writes)
        agent_states["house"]["Profile"]["scale"] = np.float64(2.0)
        return agent_states

    env = profile_env(simulation)
    for expected in ([1, 2, 3], [4, 5, 6], [7, 8, 9]):
        obs, *_ = env.step({"house": [0.0]})
        np.testing.assert_array_equal(obs["house"].local_vector(), [*expected, 2.0])
    with pytest.raises(SimulationError, match=r"agent 'house' feature 'Profile' field 'load' holds NaN or infinity "
                                              r"after the step's apply_action and simulation: "
                                              r"array\(\[ 1\., nan,  0\.\]\)"):
        env.step({"house": [0.0]})


def test_a_nan_in_a_constructed_feature_is_an_error_when_the_env_is_built():
    with pytest.raises(SimulationError, match=r"agent 'house' feature 'Profile' field 'scale' holds NaN or infinity "
                                              r"when the env was built: nan \(float\)"):
        DefaultHeronEnv(agents=[Consumer("house", [Profile(scale=float("nan"))])], env_id="profiles")


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
