"""The sensor network demo env: one hand-checked step, targets, sharing, visibility, seeding, arguments, evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from heron.core import ConfigError, ObservationError
from heron.demo_envs.sensor_network import BASE_STATION, LISTEN, SENSE, SLEEP, sensor_network_reference
from heron.evaluation import robustness_sweep
from heron.training import make_env


def references(env):
    return {aid: sensor_network_reference() for aid in env.possible_agents}


def node(env, agent_id):
    return env.agent(agent_id).state.features["NodeFeature"]


def heard(env, agent_id):
    return env.agent(agent_id).state.features["NeighbourFeature"]


def place_targets(env, counts):
    for aid, count in zip(env.possible_agents, counts):
        env.agent(aid).state.features["TargetFeature"].count = float(count)


def targets(env):
    """How many targets are at each node, in ring order."""
    return [env.agent(aid).state.features["TargetFeature"].count for aid in env.possible_agents]


def test_one_step_by_hand():
    env = make_env("sensor_network", num_nodes=3, num_targets=1, target_speed=0.0)
    env.reset(seed=0)
    place_targets(env, [0, 1, 0])
    for aid, energy in (("node_0", 0.5), ("node_1", 0.95), ("node_2", 0.2)):
        node(env, aid).energy = energy
    _, rewards, *_ = env.step({"node_0": [SENSE], "node_1": [SENSE], "node_2": [SLEEP]})
    # node_0 senses an empty node; node_1 finds the target; node_2 sleeps with its radio off
    assert [node(env, aid).detected for aid in ("node_0", "node_1", "node_2")] == [0.0, 1.0, 0.0]
    assert node(env, "node_0").energy == pytest.approx(0.5 + 0.08 - 0.01 - 0.15)
    assert node(env, "node_1").energy == pytest.approx(1.0 - 0.01 - 0.15)  # the battery holds at most 1
    assert node(env, "node_2").energy == pytest.approx(0.2 + 0.08)
    assert rewards == pytest.approx({"node_0": -0.16, "node_1": 1.0 - 0.16, "node_2": 0.0})
    assert env.agent(BASE_STATION).last_reward == pytest.approx(1.0 - 0.32)
    # left and right ring neighbours: node_0's right is node_1; node_2, radio off, hears nothing of node_1
    assert (heard(env, "node_0").heard, heard(env, "node_0").left, heard(env, "node_0").right) == (1.0, 0.0, 1.0)
    assert (heard(env, "node_1").left, heard(env, "node_1").right) == (0.0, 0.0)
    assert (heard(env, "node_2").heard, heard(env, "node_2").left, heard(env, "node_2").right) == (0.0, 0.0, 0.0)


def test_a_node_does_only_what_its_energy_pays_for():
    env = make_env("sensor_network", num_nodes=3)
    env.reset(seed=0)
    node(env, "node_0").energy = 0.05  # 0.13 after harvesting: the radio (0.01) but not sensing (0.15)
    env.step({"node_0": [SENSE], "node_1": [LISTEN], "node_2": [SLEEP]})
    assert (node(env, "node_0").sensing, heard(env, "node_0").heard) == (0.0, 1.0)
    assert node(env, "node_0").spent == pytest.approx(0.01) and node(env, "node_0").energy == pytest.approx(0.12)
    assert node(env, "node_1").spent == pytest.approx(0.01) and node(env, "node_2").spent == 0.0


def test_targets_move_clockwise_at_their_speed():
    env = make_env("sensor_network", num_nodes=5, num_targets=3, target_speed=1.0)
    env.reset(seed=3)
    start = targets(env)
    assert sum(start) == 3
    for step in range(1, 8):
        env.step({aid: [SLEEP] for aid in env.agents})
        shift = step % 5  # every target moved one node to the right each step
        assert targets(env) == start[-shift:] + start[:-shift]
    env = make_env("sensor_network", num_nodes=5, target_speed=0.0)
    env.reset(seed=3)
    start = targets(env)
    env.step({aid: [SLEEP] for aid in env.agents})
    assert targets(env) == start


def test_partial_observability_through_visibility():
    env = make_env("sensor_network")
    observations, _ = env.reset(seed=0)
    place = env.possible_agents.index(next(aid for aid, count in zip(env.possible_agents, targets(env)) if count))
    assert list(observations["node_0"].local) == ["NodeFeature", "NeighbourFeature"]  # not its TargetFeature
    assert not observations["node_0"].global_info  # nothing is public
    seen = env.observe(BASE_STATION).local  # only the base station sees where the targets are
    assert [seen[f"node_{index}.TargetFeature"][0] for index in range(8)] == targets(env)
    assert seen[f"node_{place}.TargetFeature"][0] > 0
    assert env.state().size == 8 * (4 + 3 + 1)  # the global state holds every node's features, TargetFeature too


def test_the_same_seed_gives_the_same_trajectory():
    def trajectory(seed):
        env = make_env("sensor_network")
        policies = references(env)
        observations, _ = env.reset(seed=seed)
        steps = []
        for _ in range(env.max_steps):
            observations, rewards, *_ = env.step({aid: policies[aid].forward(observations[aid]) for aid in env.agents})
            steps.append(np.append(env.state(), list(rewards.values())))
        return np.concatenate(steps)

    assert np.array_equal(trajectory(11), trajectory(11))
    assert not np.array_equal(trajectory(11), trajectory(12))


def test_the_reference_follows_detections_and_keeps_its_radio_on():
    env = make_env("sensor_network", num_nodes=3, num_targets=1, target_speed=0.0)
    policy = sensor_network_reference()
    env.reset(seed=0)
    place_targets(env, [0, 1, 0])
    for aid in env.agents:
        node(env, aid).energy = 0.5  # enough to follow a detection, not enough to sense without one
    observations, *_ = env.step({"node_0": [LISTEN], "node_1": [SENSE], "node_2": [LISTEN]})
    actions = {aid: int(policy.forward(observations[aid]).d[0]) for aid in env.agents}
    assert actions == {"node_0": SENSE, "node_1": SENSE, "node_2": SENSE}  # node_1 found it; both neighbours heard
    node(env, "node_0").energy = 0.0
    observations, *_ = env.step({"node_0": [SLEEP], "node_1": [SENSE], "node_2": [LISTEN]})
    assert int(policy.forward(observations["node_0"]).d[0]) == SLEEP  # 0.08 after harvesting: too little to listen
    with pytest.raises(ObservationError, match="give it an Observation"):
        policy.forward(observations["node_0"].vector())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_nodes": 2}, "sensor_network num_nodes must be an integer >= 3, got 2"),
        ({"num_targets": 0}, "sensor_network num_targets must be a positive integer, got 0"),
        ({"target_speed": 1.5}, "sensor_network target_speed must be a number in [0, 1], got 1.5"),
        ({"sense_cost": -0.1}, "sensor_network sense_cost must be a number in [0, 1], got -0.1"),
        ({"detection_reward": "high"}, "sensor_network detection_reward must be a non-negative number, got 'high'"),
        ({"observation_mode": "own"}, "sensor_network observation_mode: unknown observation_mode 'own'"),
        ({"nodes": 4}, "environment 'sensor_network' has no argument 'nodes'"),
    ],
)
def test_bad_arguments_are_one_line_config_errors(kwargs, message):
    with pytest.raises(ConfigError) as raised:
        make_env("sensor_network", **kwargs)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_robustness_sweep_runs_on_the_sensor_network():
    env = make_env("sensor_network")
    result = robustness_sweep(env, references(env), "act_delay", [0.0, 2.0], episodes=2, seed=5)
    assert result.t_end == 50.0 and len(result.sync_returns) == 2
    assert result.returns[0] == pytest.approx(result.sync_returns)  # nodes tick every step: no delay, no change
    assert result.means[1] < result.means[0]  # a late sensing decision misses the target it followed
