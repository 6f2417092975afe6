"""Synchronous evaluation of policies on an env."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from heron.core.errors import ConfigError, UnknownAgentError
from heron.core.policies import Policy
from heron.envs.env import DefaultHeronEnv

__all__ = ["evaluate_policies", "run_episode"]


def check_policies(env: DefaultHeronEnv, policies: Mapping[str, Policy] | None) -> dict[str, Policy]:
    """``policies`` as a dict, after checking it holds one :class:`Policy` per acting agent and nothing else."""
    if policies is None:
        raise ConfigError(
            f"env {env.env_id!r} has no policies: call env.set_agent_policies({{agent_id: Policy}}) first"
        )
    if not isinstance(policies, Mapping):
        raise ConfigError(f"policies must be a dict {{agent_id: Policy}}, got {type(policies).__name__}")
    for aid, policy in policies.items():
        if aid not in env.all_agents:
            raise UnknownAgentError(
                f"env {env.env_id!r} has no agent {aid!r} to give a policy; acting agents are {env.possible_agents}"
            )
        if aid not in env.possible_agents:
            raise ConfigError(
                f"agent {aid!r} does not choose actions in env {env.env_id!r} (no action of its own, or its "
                f"actions come from its coordinator's protocol); acting agents are {env.possible_agents}"
            )
        if not isinstance(policy, Policy):
            raise ConfigError(f"the policy of agent {aid!r} must be a heron Policy, got {type(policy).__name__}")
    missing = [aid for aid in env.possible_agents if aid not in policies]
    if missing:
        raise ConfigError(
            f"no policy for acting agent(s) {missing} of env {env.env_id!r}; policies were given for {sorted(policies)}"
        )
    return dict(policies)


def run_episode(env: DefaultHeronEnv, policies: Mapping[str, Policy], seed: int | None = None) -> dict[str, float]:
    """Play one episode with ``policies`` and return each acting agent's return."""
    check_policies(env, policies)
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
    env: DefaultHeronEnv, policies: Mapping[str, Policy], episodes: int = 10, seed: int = 0
) -> list[float]:
    """Team returns (sum over agents) of ``episodes`` episodes seeded ``seed, seed+1, ...``."""
    if episodes < 1:
        raise ConfigError(f"episodes must be >= 1, got {episodes}")
    return [float(np.sum(list(run_episode(env, policies, seed + i).values()))) for i in range(episodes)]
