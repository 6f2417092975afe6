"""RLlibBasedHeronEnv: spaces, observations, action validation, episode ends, bad configs, RLlib's env check."""

from __future__ import annotations

import cloudpickle
import gymnasium as gym
import numpy as np
import pytest
from ray.rllib.utils.pre_checks.env import check_multiagent_environments

from heron.adaptors.rllib import AGENT_INDEX_KEY, OBS_KEY, STATE_KEY, RLlibBasedHeronEnv
from heron.core.errors import ActionError, ConfigError, UnknownAgentError
from heron.demo_envs.thermostat import thermostat_simulation
from heron.envs import build_env, in_place_simulation


@pytest.mark.parametrize("global_state", [False, True])
def test_passes_rllib_multi_agent_env_check(two_rooms, global_state):
    check_multiagent_environments(RLlibBasedHeronEnv({**two_rooms, "global_state": global_state}))


def test_passes_rllib_env_check_with_discrete_and_mixed_actions(mixed_rooms):
    check_multiagent_environments(RLlibBasedHeronEnv(mixed_rooms))


def test_spaces_follow_each_agent_action_and_observation_mode(mixed_rooms):
    env = RLlibBasedHeronEnv(mixed_rooms)
    assert env.possible_agents == ["room_a", "room_b", "room_c"]
    assert isinstance(env.action_spaces["room_a"], gym.spaces.Box)
    assert env.action_spaces["room_b"] == gym.spaces.Discrete(3)
    assert isinstance(env.action_spaces["room_c"], gym.spaces.Dict) and set(env.action_spaces["room_c"]) == {"c", "d"}
    assert env.observation_spaces["room_a"].shape == (1,)  # local: its own temperature
    assert env.observation_spaces["room_b"].shape == (4,)  # full: its own, then the 3 public temperatures
    observations, _ = env.reset(seed=3)
    heron = build_env(mixed_rooms)
    expected, _ = heron.reset(seed=3)
    for aid, obs in observations.items():
        assert obs.dtype == np.float32 and env.observation_spaces[aid].contains(obs)
        np.testing.assert_array_equal(obs, expected[aid].vector_for(heron.agent(aid).observation_mode))


def test_agent_ids_and_whole_env_spaces_are_there_before_the_first_reset(mixed_rooms):
    env = RLlibBasedHeronEnv(mixed_rooms)
    assert env.get_agent_ids() == {"room_a", "room_b", "room_c"} and env.agents == []
    assert isinstance(env.observation_space, gym.spaces.Dict) and isinstance(env.action_space, gym.spaces.Dict)
    for aid in env.possible_agents:
        assert env.observation_space[aid] is env.observation_spaces[aid] is env.get_observation_space(aid)
        assert env.action_space[aid] is env.action_spaces[aid] is env.get_action_space(aid)


def test_steps_forward_actions_of_every_kind(mixed_rooms):
    env = RLlibBasedHeronEnv(mixed_rooms)
    env.reset(seed=0)
    mixed = {"c": np.array([-1.0]), "d": np.array([1])}
    actions = {"room_a": np.array([1.0], np.float32), "room_b": 2, "room_c": mixed}
    observations, rewards, terminated, truncated, _ = env.step(actions)
    assert set(observations) == set(rewards) == {"room_a", "room_b", "room_c"}
    assert terminated["__all__"] is False and truncated["__all__"] is False
    agents = env.heron_env.all_agents
    assert agents["room_a"].action.c.tolist() == [1.0] and agents["room_b"].action.d.tolist() == [2]
    assert agents["room_c"].action.c.tolist() == [-1.0] and agents["room_c"].action.d.tolist() == [1]


@pytest.mark.parametrize(
    ("action", "message"),
    [(np.array([0.1, 0.2], np.float32), "room_a: action has 2 value"), (np.array([np.nan], np.float32), "room_a.*NaN")],
)
def test_a_bad_action_is_an_error_naming_the_agent(two_rooms, action, message):
    env = RLlibBasedHeronEnv(two_rooms)
    env.reset(seed=0)
    with pytest.raises(ActionError, match=message):
        env.step({"room_a": action, "room_b": np.array([0.0], np.float32)})


def test_actions_for_unknown_or_missing_agents_are_errors(two_rooms):
    env = RLlibBasedHeronEnv(two_rooms)
    env.reset(seed=0)
    zero = np.zeros(1, np.float32)
    with pytest.raises(UnknownAgentError, match="room_z"):
        env.step({"room_a": zero, "room_b": zero, "room_z": zero})
    with pytest.raises(ActionError, match=r"missing action.*room_b"):
        env.step({"room_a": zero})


def test_max_steps_truncates_every_agent(two_rooms):
    env = RLlibBasedHeronEnv({**two_rooms, "max_steps": 3})
    env.reset(seed=0)
    zero = np.zeros(1, np.float32)
    for step in range(1, 4):
        _, _, terminated, truncated, _ = env.step({"room_a": zero, "room_b": zero})
        assert truncated == {"room_a": step == 3, "room_b": step == 3, "__all__": step == 3}
        assert terminated["__all__"] is False


def test_a_terminated_agent_gets_a_last_observation_and_then_none(two_rooms, agents):
    config = {**two_rooms, "agents": [agents.room("room_a", agents.OutOfComfort), agents.room("room_b")]}
    env = RLlibBasedHeronEnv(config)
    env.reset(seed=0)
    heat, zero = np.ones(1, np.float32), np.zeros(1, np.float32)
    for _ in range(20):
        observations, rewards, terminated, _, _ = env.step({"room_a": heat, "room_b": zero})
        if terminated.get("room_a"):
            break
    assert terminated["room_a"] and "room_a" in observations and "room_a" in rewards
    assert terminated["__all__"] is False and env.agents == ["room_b"]
    observations, rewards, _, _, _ = env.step({"room_b": zero})
    assert set(observations) == set(rewards) == {"room_b"}  # nothing invented for the finished agent
    with pytest.raises(UnknownAgentError, match="room_a"):
        env.step({"room_a": heat, "room_b": zero})


def test_global_state_observations_carry_the_state_and_the_agent_index(two_rooms):
    env = RLlibBasedHeronEnv({**two_rooms, "global_state": True})
    observations, _ = env.reset(seed=1)
    state = env.heron_env.state()
    for index, aid in enumerate(env.possible_agents):
        obs = observations[aid]
        assert env.observation_spaces[aid].contains(obs)
        np.testing.assert_array_equal(obs[STATE_KEY], state)
        assert obs[AGENT_INDEX_KEY] == index
        np.testing.assert_array_equal(obs[OBS_KEY], env.heron_env.observe(aid).vector_for("local"))


def test_a_global_state_observation_for_an_unknown_agent_names_it(two_rooms):
    env = RLlibBasedHeronEnv({**two_rooms, "global_state": True})
    env.reset(seed=1)
    message = r"no acting agent 'attic'; the acting agents are \['room_a', 'room_b'\]"
    with pytest.raises(UnknownAgentError, match=message):
        env.observation_from("attic", np.zeros(1, np.float32), env.heron_env.state())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: {k: v for k, v in c.items() if k != "agents"}, "missing required key.*agents"),
        (lambda c: {**c, "no_such_key": 1}, r"unknown key\(s\) \['no_such_key'\]"),
        (lambda c: {**c, "agent_ids": ["room_a", "room_x"]}, "agent_ids names unknown agent 'room_x'"),
        (lambda c: {**c, "global_state": "yes"}, "global_state"),
        (lambda c: None, "needs a HERON env_config"),
    ],
)
def test_bad_env_configs_are_clear_errors(two_rooms, change, message):
    with pytest.raises(ConfigError, match=message):
        RLlibBasedHeronEnv(change(two_rooms))


def test_env_config_with_classes_and_functions_survives_pickling(two_rooms):
    @in_place_simulation
    def cooler(features):  # a closure, as users write them in notebooks; the mark survives pickling
        thermostat_simulation(features)

    config = {**two_rooms, "simulation": cooler}
    restored = cloudpickle.loads(cloudpickle.dumps(config))
    first, second = RLlibBasedHeronEnv(config), RLlibBasedHeronEnv(restored)
    a, _ = first.reset(seed=4)
    b, _ = second.reset(seed=4)
    action = {aid: np.array([0.3], np.float32) for aid in first.possible_agents}
    for _ in range(5):
        a, ra, *_ = first.step(action)
        b, rb, *_ = second.step(action)
    assert ra == rb and all(np.array_equal(a[aid], b[aid]) for aid in a)
