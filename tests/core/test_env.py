"""DefaultHeronEnv: dynamics, seeding, hierarchy, observation modes and bad inputs."""

from __future__ import annotations

import copy
import re

import numpy as np
import pytest

from heron.core import ActionError, ConfigError, SimulationError, UnknownAgentError
from heron.demo_envs.thermostat import RoomTempFeature, Thermostat, thermostat_config
from heron.envs import DefaultHeronEnv, EnvBuilder, build_env
from heron.training import make_env

from .envs_fixtures import Battery, Charge, battery_config


def fixed_two_rooms(**kwargs):
    config = thermostat_config(initial_range=None, **kwargs)
    config["agents"][0]["features"][0].temperature = 18.0
    config["agents"][1]["features"][0].temperature = 24.0
    return config


def test_thermostat_step_follows_the_documented_dynamics():
    env = build_env(fixed_two_rooms())
    env.reset(seed=0)
    obs, rewards, terminated, truncated, infos = env.step({"room_a": [1.0], "room_b": [-0.5]})
    heated = np.array([18.0 + 2.0, 24.0 - 1.0])
    mean = heated.mean()
    expected = heated + 0.1 * (15.0 - heated) + 0.05 * (mean - heated)
    assert obs["room_a"].local_vector()[0] == pytest.approx(expected[0], rel=1e-6)
    assert obs["room_b"].local["RoomTempFeature"][0] == pytest.approx(expected[1])
    assert rewards == pytest.approx({"room_a": -abs(expected[0] - 22), "room_b": -abs(expected[1] - 22)})
    assert terminated == {"room_a": False, "room_b": False, "__all__": False}
    assert truncated == {"room_a": False, "room_b": False, "__all__": False}
    assert set(infos) == {"room_a", "room_b"}


def test_heating_is_clipped_to_the_temperature_bounds():
    env = build_env(fixed_two_rooms())
    env.reset(seed=0)
    for _ in range(30):
        obs, *_ = env.step({"room_a": [1.0], "room_b": [1.0]})
    assert obs["room_a"].local_vector()[0] <= 35.0


def test_max_steps_truncates_and_step_after_end_is_an_error():
    env = make_env("thermostat", max_steps=3)
    env.reset(seed=1)
    for expected in (False, False, True):
        *_, truncated, _ = env.step({aid: [0.0] for aid in env.agents})
        assert truncated["__all__"] is expected
    with pytest.raises(RuntimeError, match="reset"):
        env.step({aid: [0.0] for aid in env.possible_agents})


def rollout(env, seed, steps=10):
    """Initial observation, then rewards of ``steps`` steps of seeded random actions."""
    obs, _ = env.reset(seed=seed)
    trace = [obs["room_a"].vector()]
    for _ in range(steps):
        _, rewards, *_ = env.step({aid: env.agent(aid).action.sample().c for aid in env.agents})
        trace.append(np.array(list(rewards.values())))
    return np.concatenate(trace)


def test_reset_seed_makes_initial_states_and_action_samples_reproducible():
    env = make_env("thermostat")
    first, second = rollout(env, 7), rollout(env, 7)
    np.testing.assert_array_equal(first, second)
    other_env = make_env("thermostat")
    np.testing.assert_array_equal(rollout(other_env, 7), first)
    assert not np.array_equal(rollout(env, 8), first)


def test_reset_restores_construction_values_not_dataclass_defaults():
    env = build_env(fixed_two_rooms())
    env.reset(seed=0)
    for _ in range(5):
        env.step({"room_a": [1.0], "room_b": [1.0]})
    obs, _ = env.reset(seed=0)
    assert obs["room_a"].local_vector()[0] == pytest.approx(18.0)
    assert obs["room_b"].local_vector()[0] == pytest.approx(24.0)


def test_build_env_does_not_mutate_the_config_and_envs_do_not_share_features():
    config = fixed_two_rooms()
    before = copy.deepcopy(config)
    env_a, env_b = build_env(config), build_env(config)
    env_a.reset(seed=0)
    env_a.step({"room_a": [1.0], "room_b": [1.0]})
    assert config["agents"][0]["features"][0].temperature == before["agents"][0]["features"][0].temperature
    assert set(config) == set(before)
    env_b.reset(seed=0)
    assert env_b.observe("room_a").local_vector()[0] == pytest.approx(18.0)


def test_observations_are_snapshots():
    env = make_env("thermostat")
    obs, _ = env.reset(seed=0)
    before = obs["room_a"].vector().copy()
    env.step({"room_a": [1.0], "room_b": [1.0]})
    np.testing.assert_array_equal(obs["room_a"].vector(), before)
    # the dicts are built on first access, from the state of the observation's own moment
    assert obs["room_a"].local["RoomTempFeature"][0] == before[0]
    assert [value[0] for value in obs["room_b"].global_info.values()] == before[1:].tolist()
    with pytest.raises(ValueError):
        obs["room_a"].local["RoomTempFeature"][0] = 0.0


# ------------------------------------------------------------------ bad actions
@pytest.fixture
def env():
    environment = make_env("thermostat")
    environment.reset(seed=0)
    return environment


def test_unknown_agent_in_actions_is_an_error(env):
    with pytest.raises(UnknownAgentError, match="room_c"):
        env.step({"room_a": [0.0], "room_b": [0.0], "room_c": [0.0]})


def test_missing_action_is_an_error(env):
    with pytest.raises(ActionError, match=r"missing action\(s\) for agent\(s\) \['room_b'\]"):
        env.step({"room_a": [0.0]})


def test_wrong_length_and_nan_actions_name_the_agent(env):
    with pytest.raises(ActionError, match=r"room_b: action has 2 value\(s\), expected 1"):
        env.step({"room_a": [0.0], "room_b": [0.0, 0.0]})
    with pytest.raises(ActionError, match="room_a: action contains NaN"):
        env.step({"room_a": [np.nan], "room_b": [0.0]})


def test_non_acting_agent_in_actions_is_an_error(env):
    with pytest.raises(UnknownAgentError, match="do not choose actions"):
        env.step({"room_a": [0.0], "room_b": [0.0], "system_agent": [0.0]})


# --------------------------------------------------------------------- config
def test_unknown_and_missing_config_keys_are_errors():
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['max_step'\]"):
        build_env({**thermostat_config(), "max_step": 10})
    with pytest.raises(ConfigError, match=r"missing required key\(s\) \['agents'\]"):
        build_env({"simulation": None})
    config = thermostat_config()
    del config["agents"][0]["agent_cls"]
    with pytest.raises(ConfigError, match=r"agents'\]\[0\]: missing required key\(s\) \['agent_cls'\]"):
        build_env(config)


def test_bad_thermostat_arguments_are_config_errors_naming_the_argument():
    with pytest.raises(ConfigError, match=r"^thermostat num_rooms must be a positive integer, got 0$"):
        thermostat_config(num_rooms=0)
    with pytest.raises(ConfigError, match=r"^thermostat num_rooms must be a positive integer, got '3'$"):
        make_env("thermostat", num_rooms="3")
    with pytest.raises(ConfigError, match=r"^agent 'room_a': initial_range high must be a number >= 25.0, got 15$"):
        make_env("thermostat", initial_range=(25.0, 15))
    message = r"^agent 'room_a': initial_range must be a \(low, high\) pair of temperatures or None, got \[20\]$"
    with pytest.raises(ConfigError, match=message):
        make_env("thermostat", initial_range=[20])


def test_agent_kwargs_must_be_a_dict():
    config = thermostat_config()
    config["agents"][0]["kwargs"] = ["initial_range"]
    with pytest.raises(ConfigError, match=r"env_config\['agents'\]\[0\]: 'kwargs' must be a dict of constructor "
                                          r"arguments, got \['initial_range'\]"):
        build_env(config)


def test_env_max_steps_must_be_a_positive_integer():
    agents, acting = list(make_env("thermostat").all_agents.values()), ["room_a", "room_b"]
    for bad in (0, "50", 2.5):
        with pytest.raises(ConfigError, match=rf"^env 'rooms': max_steps must be a positive integer, got {bad!r}$"):
            DefaultHeronEnv(agents, acting, max_steps=bad, env_id="rooms")


def test_reset_seed_must_be_a_non_negative_integer():
    env = make_env("thermostat")
    for bad in ("0", -1, 1.5):
        message = rf"^env 'thermostat_2': seed must be a non-negative integer, got {bad!r}$"
        with pytest.raises(ConfigError, match=message):
            env.reset(seed=bad)


def test_features_given_without_a_list_name_the_agent():
    with pytest.raises(ConfigError, match=r"^agent 'room_a': features must be a list of Feature instances, got "
                                          r"RoomTempFeature\(temperature=18.0\)$"):
        Thermostat("room_a", RoomTempFeature(temperature=18.0))


def test_an_unknown_observation_mode_is_a_config_error():
    env = make_env("thermostat")
    with pytest.raises(ConfigError, match=r"agent 'room_a': unknown observation_mode 'fulll'; expected one of "
                                          r"\['local', 'full', 'global'\]"):
        env.observation_size("room_a", "fulll")


def test_duplicate_agent_ids_are_an_error():
    config = thermostat_config()
    config["agents"][1]["agent_id"] = "room_a"
    with pytest.raises(ConfigError, match="duplicate agent id 'room_a'"):
        build_env(config)


def test_agent_ids_are_validated():
    with pytest.raises(ConfigError, match="unknown agent 'room_z'"):
        build_env({**thermostat_config(), "agent_ids": ["room_a", "room_b", "room_z"]})
    with pytest.raises(ConfigError, match=r"leaves out acting agent\(s\) \['room_b'\]"):
        build_env({**thermostat_config(), "agent_ids": ["room_a"]})
    env = build_env({**thermostat_config(), "agent_ids": ["room_b", "room_a"]})
    assert env.possible_agents == ["room_b", "room_a"]


def test_unknown_coordinator_and_bad_agent_class_are_errors():
    config = thermostat_config()
    config["agents"][0]["coordinator"] = "nowhere"
    with pytest.raises(ConfigError, match="unknown coordinator 'nowhere'"):
        build_env(config)
    config = thermostat_config()
    config["agents"][0]["agent_cls"] = dict
    with pytest.raises(ConfigError, match="subclass of FieldAgent"):
        build_env(config)


def test_agent_class_and_simulation_may_be_import_strings():
    config = thermostat_config()
    config["agents"][0]["agent_cls"] = "heron.demo_envs.thermostat:Thermostat"
    config["simulation"] = "heron.demo_envs.thermostat:thermostat_simulation"
    env = build_env(config)
    assert isinstance(env.agent("room_a"), Thermostat)


def test_simulation_returning_a_renamed_feature_or_unknown_agent_is_an_error():
    def renamed(states):
        states["room_a"]["RoomTemperature"] = states["room_a"].pop("RoomTempFeature")
        return states

    env = build_env({**thermostat_config(), "simulation": renamed})
    env.reset(seed=0)
    with pytest.raises(SimulationError, match="agent 'room_a' has no feature 'RoomTemperature'"):
        env.step({"room_a": [0.0], "room_b": [0.0]})

    env = build_env({**thermostat_config(), "simulation": lambda states: {**states, "ghost": {}}})
    env.reset(seed=0)
    with pytest.raises(SimulationError, match="unknown agent 'ghost'"):
        env.step({"room_a": [0.0], "room_b": [0.0]})


def test_simulation_returning_something_else_than_feature_dicts_for_an_agent_is_an_error():
    env = build_env({**thermostat_config(), "simulation": lambda states: {**states, "room_a": 21.5}})
    env.reset(seed=0)
    with pytest.raises(SimulationError, match=r"agent 'room_a': expected a \{feature_name: \{field: value\}\} dict, "
                                              "got 21.5"):
        env.step({"room_a": [0.0], "room_b": [0.0]})


@pytest.mark.parametrize("reward", ["fine", None, float("nan"), [1.0, 2.0]])
def test_a_reward_that_is_not_a_finite_number_names_the_agent_and_the_value(env, reward):
    env.agent("room_b").compute_local_reward = lambda local_state: reward
    with pytest.raises(SimulationError, match=rf"env 'thermostat_2': agent 'room_b' computed the reward "
                                              rf"{re.escape(repr(reward))}; expected a finite number"):
        env.step({"room_a": [0.0], "room_b": [0.0]})


def test_simulation_producing_nan_names_agent_feature_and_field():
    def broken(states):
        states["room_b"]["RoomTempFeature"]["temperature"] = float("nan")
        return states

    env = build_env({**thermostat_config(), "simulation": broken})
    env.reset(seed=0)
    with pytest.raises(SimulationError, match="agent 'room_b' feature 'RoomTempFeature' field 'temperature' holds NaN"):
        env.step({"room_a": [0.0], "room_b": [0.0]})


# ------------------------------------------------------------------ hierarchy
def test_coordinator_without_protocol_stays_and_observes_its_subordinates():
    env = build_env(battery_config())
    env.reset(seed=0)
    assert "grid" in env.all_agents
    assert env.possible_agents == ["b1", "b2"]
    grid = env.observe("grid")
    assert list(grid.local) == ["b1.Charge", "b1.Price", "b2.Charge"]  # upper_level and public features
    np.testing.assert_allclose(grid.local_vector(), [0.2, 1.0, 0.9])
    assert list(env.observe("b1").local) == ["Charge", "Price"]
    assert list(env.observe("b1").global_info) == ["b1.Price"]
    assert "b1.Secret" in env.observe("system_agent").local


def test_coordinator_with_vertical_protocol_acts_every_step_through_its_subordinates():
    env = build_env(battery_config(protocol="vertical"))
    env.reset(seed=0)
    assert env.possible_agents == ["grid"]
    assert env.action_space("grid").shape == (2,)
    _, rewards, *_ = env.step({"grid": [0.1, -0.1]})
    np.testing.assert_allclose(env.observe("grid").local_vector(), [0.3, 1.0, 0.8], rtol=1e-6)
    assert rewards["grid"] == pytest.approx(-(0.2 + 0.3))
    with pytest.raises(ConfigError, match="actions come from 'grid'"):
        build_env(battery_config(protocol="vertical", agent_ids=["grid", "b1"]))


def test_unknown_protocol_is_an_error():
    with pytest.raises(ConfigError, match="unknown protocol 'sideways'"):
        build_env(battery_config(protocol="sideways"))


def test_observation_mode_decides_the_vector_and_its_space():
    env = build_env(thermostat_config(observation_mode="full"))
    obs, _ = env.reset(seed=0)
    assert env.observation_space("room_a").shape == (3,)
    assert env.observation_space("room_a", "local").shape == (1,)
    assert env.observation_space("room_a", "global").shape == (2,)
    vector = obs["room_a"].vector_for(env.agent("room_a").observation_mode)
    assert env.observation_space("room_a").contains(vector)
    np.testing.assert_array_equal(vector[1:], obs["room_b"].global_vector())


def test_builder_api_matches_the_config_path():
    env = (
        EnvBuilder("batteries")
        .add_agent(Battery("b1", [Charge(level=0.2)]))
        .add_agent(Battery("b2", [Charge(level=0.9)]))
        .max_steps(3)
        .build()
    )
    obs, _ = env.reset(seed=0)
    assert env.possible_agents == ["b1", "b2"]
    assert obs["b2"].local_vector()[0] == pytest.approx(0.9)


def test_state_is_the_flat_vector_of_all_features():
    env = build_env(battery_config())
    env.reset(seed=0)
    assert env.state().shape == env.state_space.shape == (4,)


def test_pettingzoo_parallel_api():
    pytest.importorskip("pettingzoo")
    from pettingzoo.test import parallel_api_test, parallel_seed_test

    from heron.envs.parallel import HeronParallelEnv

    parallel_api_test(HeronParallelEnv(make_env("thermostat", observation_mode="full")), num_cycles=60)
    parallel_seed_test(lambda: HeronParallelEnv(make_env("thermostat")))


# ------------------------------------------------------------------ termination
class Overheats(Thermostat):
    """Done once its room is above 25 C."""

    def is_terminated(self, local_state):
        return float(local_state["RoomTempFeature"][0]) > 25.0


def test_an_agent_that_terminates_leaves_the_acting_agents():
    config = fixed_two_rooms()
    config["agents"][1]["agent_cls"] = Overheats
    env = build_env(config)
    env.reset(seed=0)
    _, _, terminated, _, _ = env.step({"room_a": [0.0], "room_b": [1.0]})  # room_b: 24 -> 24.7 -> 25.3
    assert terminated == {"room_a": False, "room_b": False, "__all__": False}
    _, _, terminated, _, _ = env.step({"room_a": [0.0], "room_b": [1.0]})
    assert terminated == {"room_a": False, "room_b": True, "__all__": False}
    assert env.agents == ["room_a"]
    with pytest.raises(UnknownAgentError, match="room_b"):
        env.step({"room_a": [0.0], "room_b": [0.0]})


def test_is_terminated_set_on_the_instance_is_asked_too():
    env = build_env(fixed_two_rooms())
    env.reset(seed=0)
    env.agent("room_a").is_terminated = lambda local_state: True
    _, _, terminated, _, _ = env.step({"room_a": [0.0], "room_b": [0.0]})
    assert terminated == {"room_a": True, "room_b": False, "__all__": False}


def test_unknown_env_argument_lists_the_arguments_and_errors_inside_make_config_stay_themselves(monkeypatch):
    from heron.training import EnvSpec, make_env_config, register_env, registry

    monkeypatch.setattr(registry, "_runtime", {})
    with pytest.raises(ConfigError, match=r"has no argument 'rooms' \(did you mean 'num_rooms'\?\); its arguments are: "
                                          r"num_rooms=2"):
        make_env_config("thermostat", rooms=3)

    def broken_config(size=2):
        return len(size)  # a bug in the config function: TypeError for an int

    register_env(EnvSpec("broken_for_test", broken_config))
    with pytest.raises(TypeError, match="has no len"):
        make_env_config("broken_for_test")
