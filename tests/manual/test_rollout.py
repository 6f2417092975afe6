"""Lock-step batched rollouts play exactly the episodes a plain env loop plays."""

from __future__ import annotations

import numpy as np
import pytest

from heron.backends.manual._groups import make_policies
from heron.backends.manual._rollout import EnvBatch
from heron.core import Policy, obs_to_vector, vector_to_action
from heron.demo_envs.thermostat import ProportionalController
from heron.envs import build_env
from heron.evaluation.episodes import run_episode
from heron.training import make_env_config

from .manual_fixtures import OverheatingThermostat, variant_config


class FullHeat(Policy):
    observation_mode, obs_dim, action_dim, action_range = "local", 1, 1, (-1.0, 1.0)

    @obs_to_vector
    @vector_to_action
    def forward(self, obs_vec):
        return np.array([1.0])


def act_like(policies_by_group):
    """A batched act function that applies one plain policy per group, row by row."""

    def act(group_index, obs, agent_indices):
        policy = policies_by_group[group_index]
        actions = np.array([policy.forward(row).vector() for row in obs])
        return actions, actions.copy(), np.zeros((len(obs), 0), dtype=np.int64)

    return act


@pytest.mark.parametrize(("algorithm", "max_steps"), [("ippo", 50), ("mappo", 50), ("mappo", 600)])
def test_batched_rollout_matches_sequential_episodes(algorithm, max_steps):
    config = make_env_config("thermostat", num_rooms=3, max_steps=max_steps)  # 600: the buffers grow twice
    env = build_env(config)
    groups = [group for plan in make_policies(env, algorithm) for group in plan.groups]
    seeds = [11, 12, 13, 14, 15]
    rollout = EnvBatch(config, groups).run(seeds, act_like([ProportionalController()] * len(groups)), True)
    for copy, seed in enumerate(seeds):
        expected = run_episode(env, dict.fromkeys(env.possible_agents, ProportionalController()), seed)
        assert rollout.agent_returns[copy] == pytest.approx(expected, abs=1e-9)
        assert rollout.lengths[copy] == env.max_steps
    for data in rollout.groups:
        assert data.mask.shape[0] == max_steps and data.mask.all() and data.truncated.all()
    assert rollout.states.shape == (env.max_steps, len(seeds), env.state_space.shape[0])
    np.testing.assert_allclose(rollout.states[0, :, 0], rollout.groups[0].obs[0, :, 0, 0], rtol=1e-6)


def test_agents_that_terminate_leave_the_batch_and_are_not_bootstrapped():
    config = variant_config(OverheatingThermostat)
    env = build_env(config)
    # room_a heats fully and overheats; room_b stays near 22 C
    groups = [group for plan in make_policies(env, "ippo") for group in plan.groups]
    seeds = [1, 2, 3]
    rollout = EnvBatch(config, groups).run(seeds, act_like([FullHeat(), ProportionalController()]), False)
    heater, steady = rollout.groups
    for copy, seed in enumerate(seeds):
        expected = run_episode(env, {"room_a": FullHeat(), "room_b": ProportionalController()}, seed)
        assert rollout.agent_returns[copy] == pytest.approx(expected, abs=1e-9)
        acted = heater.mask[:, copy, 0]
        length = int(acted.sum())
        assert 0 < length < env.max_steps and acted[:length].all()  # a prefix: it acted until it terminated
        assert not heater.truncated[copy, 0] and np.all(heater.rewards[length:, copy, 0] == 0)
        assert steady.mask[:, copy, 0].all() and steady.truncated[copy, 0]
