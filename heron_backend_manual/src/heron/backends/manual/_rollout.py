"""Lock-step rollouts of several env copies with batched policy evaluation.

Every env copy is a :class:`~heron.envs.DefaultHeronEnv` built from the same
env_config and reset with its own seed. At each step the observations of
all copies are stacked per policy group, the group's actor acts on the whole
stack at once, and every copy steps with its share of the actions. Copies
whose episode ended wait for the others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from heron.backends.manual._groups import PolicyGroup
from heron.envs.builder import build_env
from heron.envs.simple import DefaultHeronEnv

INITIAL_STEPS = 256  # buffers grow (doubling) up to the env's max_steps, so long episode limits cost nothing upfront
_PER_STEP = ("obs", "continuous", "choices", "rewards", "mask")

ActFn = Callable[[int, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]
"""``act(group_index, observations, agent_indices) -> (env_actions, continuous, choices)``."""


@dataclass
class GroupData:
    """What one policy group did in a rollout: arrays indexed ``[step, copy, agent of the group]``."""

    obs: np.ndarray  # (T, B, k, obs_dim)
    continuous: np.ndarray  # (T, B, k, dim_c) sampled, in half-range units, before clipping
    choices: np.ndarray  # (T, B, k, heads)
    rewards: np.ndarray  # (T, B, k)
    mask: np.ndarray  # (T, B, k) the agent acted at this step
    final_obs: np.ndarray  # (B, k, obs_dim) observation after a truncated trajectory
    truncated: np.ndarray  # (B, k) the trajectory was cut by the time limit (bootstrap it)

    @classmethod
    def empty(cls, group: PolicyGroup, steps: int, copies: int) -> GroupData:
        k, head = len(group.agent_ids), group.head
        return cls(
            obs=np.zeros((steps, copies, k, group.obs_dim)),
            continuous=np.zeros((steps, copies, k, head.dim_c)),
            choices=np.zeros((steps, copies, k, len(head.ncats)), dtype=np.int64),
            rewards=np.zeros((steps, copies, k)),
            mask=np.zeros((steps, copies, k), dtype=bool),
            final_obs=np.zeros((copies, k, group.obs_dim)),
            truncated=np.zeros((copies, k), dtype=bool),
        )

    def resize(self, steps: int) -> None:
        """Keep the first ``steps`` steps, padding with zeros (mask False) when growing."""
        for name in _PER_STEP:
            setattr(self, name, _resized(getattr(self, name), steps))


def _resized(array: np.ndarray, steps: int) -> np.ndarray:
    if steps <= array.shape[0]:
        return array[:steps]
    return np.concatenate([array, np.zeros((steps - array.shape[0], *array.shape[1:]), dtype=array.dtype)])


@dataclass
class Rollout:
    """One batch of episodes (one per env copy)."""

    groups: list[GroupData]
    states: np.ndarray | None  # (T, B, state_dim) env.state() before each step
    final_states: np.ndarray | None  # (B, state_dim) env.state() after the last step
    agent_returns: list[dict[str, float]]  # undiscounted return of every agent, per copy
    lengths: list[int]  # env steps per copy


class EnvBatch:
    """Env copies built on demand from one env_config.

    Args:
        env_config: the flat env_config every copy is built from.
        groups: the policy groups (their agents are the env's acting agents).
    """

    def __init__(self, env_config: Mapping[str, Any], groups: Sequence[PolicyGroup]) -> None:
        self.env_config = env_config
        self.groups = list(groups)
        self.envs: list[DefaultHeronEnv] = []

    def _copies(self, count: int) -> list[DefaultHeronEnv]:
        while len(self.envs) < count:
            self.envs.append(build_env(self.env_config))
        return self.envs[:count]

    def run(self, seeds: Sequence[int], act: ActFn, record_states: bool) -> Rollout:
        """Play one episode in each of ``len(seeds)`` copies, copy ``i`` reset with ``seeds[i]``."""
        envs = self._copies(len(seeds))
        max_steps, copies = envs[0].max_steps, len(envs)
        capacity = min(max_steps, INITIAL_STEPS)
        data = [GroupData.empty(group, capacity, copies) for group in self.groups]
        state_dim = envs[0].state_space.shape[0]
        states = np.zeros((capacity, copies, state_dim)) if record_states else None
        final_states = np.zeros((copies, state_dim)) if record_states else None
        observations = [env.reset(seed=int(seed))[0] for env, seed in zip(envs, seeds)]
        active = [np.ones((copies, len(group.agent_ids)), dtype=bool) for group in self.groups]
        returns = [dict.fromkeys(env.possible_agents, 0.0) for env in envs]
        lengths = [0] * copies
        live = list(range(copies))
        for t in range(max_steps):
            if not live:
                break
            if t == capacity:
                capacity = min(2 * capacity, max_steps)
                for store in data:
                    store.resize(capacity)
                states = None if states is None else _resized(states, capacity)
            if states is not None:
                for b in live:
                    states[t, b] = envs[b].state()
            actions: list[dict[str, np.ndarray]] = [{} for _ in envs]
            for g, group in enumerate(self.groups):
                rows = [(b, j) for b in live for j in range(len(group.agent_ids)) if active[g][b, j]]
                if not rows:
                    continue
                b_idx, j_idx = (np.array(column) for column in zip(*rows))
                mode, ids, store = group.observation_mode, group.agent_ids, data[g]
                obs = np.array([observations[b][ids[j]].vector_for(mode) for b, j in rows], dtype=np.float64)
                env_actions, continuous, choices = act(g, obs, j_idx)
                store.obs[t, b_idx, j_idx] = obs
                store.continuous[t, b_idx, j_idx] = continuous
                store.choices[t, b_idx, j_idx] = choices
                store.mask[t, b_idx, j_idx] = True
                for row, (b, j) in enumerate(rows):
                    actions[b][ids[j]] = env_actions[row]
            still_live = []
            for b in live:
                observations[b], rewards, terminated, truncated, _ = envs[b].step(actions[b])
                lengths[b] += 1
                ended = terminated["__all__"] or truncated["__all__"]
                for g, group in enumerate(self.groups):
                    for j, aid in enumerate(group.agent_ids):
                        if aid not in rewards:
                            continue
                        data[g].rewards[t, b, j] = rewards[aid]
                        returns[b][aid] += rewards[aid]
                        if terminated[aid]:
                            active[g][b, j] = False
                        elif ended:
                            data[g].truncated[b, j] = True
                            data[g].final_obs[b, j] = observations[b][aid].vector_for(group.observation_mode)
                if ended:
                    if final_states is not None:
                        final_states[b] = envs[b].state()
                else:
                    still_live.append(b)
            live = still_live
        used = max(lengths)
        for store in data:
            store.resize(used)
        states = None if states is None else states[:used]
        return Rollout(data, states, final_states, returns, lengths)
