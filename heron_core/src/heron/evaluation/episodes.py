"""Synchronous evaluation of policies on an env."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from heron.core.policies import Policy
from heron.envs.base import BaseEnv
from heron.utils.validation import check_number

__all__ = ["evaluate_policies", "run_episode"]


def run_episode(env: BaseEnv, policies: Mapping[str, Policy], seed: int | None = None) -> dict[str, float]:
    """Play one episode with ``policies`` and return each acting agent's return."""
    env.check_policies(policies)
    observations, _ = env.reset(seed=seed)
    for policy in policies.values():
        policy.reset()
    returns = dict.fromkeys(env.possible_agents, 0.0)
    while True:
        actions = {aid: policies[aid].forward(observations[aid]) for aid in env.agents}
        observations, rewards, terminated, truncated, _ = env.step(actions)
        for aid, reward in rewards.items():
            returns[aid] += reward
        if terminated["__all__"] or truncated["__all__"]:
            return returns


def evaluate_policies(
    env: BaseEnv, policies: Mapping[str, Policy], episodes: int = 10, seed: int = 0
) -> list[float]:
    """Team returns (sum over agents) of ``episodes`` episodes seeded ``seed, seed+1, ...``."""
    episodes = check_number(episodes, "episodes", minimum=1, integer=True)
    return [float(np.sum(list(run_episode(env, policies, seed + i).values()))) for i in range(episodes)]
