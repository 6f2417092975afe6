"""A PettingZoo ``ParallelEnv`` view of a HERON env (flat float32 observations).

Needs the optional dependency: ``pip install heron-core[pettingzoo]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from heron.envs.base import BaseEnv

try:
    from pettingzoo.utils.env import ParallelEnv
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "heron.envs.parallel needs PettingZoo: pip install 'heron-core[pettingzoo]'"
    ) from exc

__all__ = ["HeronParallelEnv"]


class HeronParallelEnv(ParallelEnv):
    """Every acting agent's observation is its flat vector in the agent's observation mode.

    ``state()`` is the env's full state vector (for centralized critics).
    """

    def __init__(self, env: BaseEnv) -> None:
        self.env = env
        self.metadata = {"name": env.env_id, "is_parallelizable": True}
        self.possible_agents = list(env.possible_agents)
        self.agents: list[str] = []
        self._modes = {aid: env.agent(aid).observation_mode for aid in self.possible_agents}

    def observation_space(self, agent: str) -> gym.spaces.Box:
        return self.env.observation_space(agent)

    def action_space(self, agent: str) -> gym.Space:
        return self.env.action_space(agent)

    @property
    def state_space(self) -> gym.spaces.Box:
        return self.env.state_space

    def state(self) -> np.ndarray:
        return self.env.state()

    def _flatten(self, observations: Mapping[str, Any]) -> dict[str, np.ndarray]:
        return {aid: obs.vector_for(self._modes[aid]) for aid, obs in observations.items()}

    def reset(self, seed: int | None = None, options: dict | None = None):
        observations, infos = self.env.reset(seed=seed, options=options)
        self.agents = list(self.env.agents)
        return self._flatten(observations), infos

    def step(self, actions: Mapping[str, Any]):
        observations, rewards, terminated, truncated, infos = self.env.step(actions)
        terminated.pop("__all__")
        if truncated.pop("__all__"):
            self.agents = []
        else:
            self.agents = list(self.env.agents)
        return self._flatten(observations), rewards, terminated, truncated, infos

    def render(self) -> None:
        return None

    def close(self) -> None:
        self.env.close()
