"""The ``cem`` backend: cross-entropy method search over linear policies.

A candidate is one parameter vector holding a linear policy per sharing group of
:func:`heron.training.sharing_groups` (one per agent for ``ippo``, one per kind of
agent for ``mappo``, used by every agent of the kind). It plays one seeded
episode and its team return is its score; the best ``elite_frac`` of a
population move the search distribution's mean and spread. CEM learns no
critic, so of the algorithm definitions only the policy sharing applies.
Training stops after the episode that reaches ``stop.episodes``,
``stop.env_steps`` or ``stop.target_return``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from heron.core import CheckpointError, ConfigError, Policy
from heron.core.policies import obs_to_vector, vector_to_action
from heron.envs import BaseEnv, build_env
from heron.evaluation.episodes import run_episode
from heron.training import (
    ALGORITHMS,
    SUMMARY_WINDOW,
    BackendSpec,
    EpisodeRecord,
    ExperimentSpec,
    TrainingResult,
    sharing_groups,
)
from heron.training.experiment import ProgressCallback
from heron.training.hookspecs import hookimpl
from heron.utils.files import write_json_atomic

__all__ = ["CEMTrainer", "LinearPolicy", "heron_backends", "load_policies"]

BACKEND = "cem"
DEFAULTS: dict[str, Any] = {"population": 16, "elite_frac": 0.25, "init_std": 0.5, "min_std": 0.02}
CHECKPOINT_FILE = "cem.json"


class Shape(NamedTuple):
    """What an agent's linear policy reads and writes."""

    obs_dim: int
    low: np.ndarray
    high: np.ndarray
    mode: str

    @property
    def size(self) -> int:
        return (self.obs_dim + 1) * self.low.size


class LinearPolicy(Policy):
    """``action = low + (tanh(W obs + b) + 1) / 2 * (high - low)``."""

    def __init__(self, weights: np.ndarray, shape: Shape) -> None:
        self.observation_mode, self.obs_dim, self.action_dim = shape.mode, shape.obs_dim, shape.low.size
        self.action_range = (shape.low, shape.high)
        self.weights = weights.reshape(shape.low.size, shape.obs_dim + 1)

    @obs_to_vector
    @vector_to_action
    def forward(self, obs_vec: np.ndarray) -> np.ndarray:
        squashed = np.tanh(self.weights[:, :-1] @ obs_vec + self.weights[:, -1])
        low, high = self.action_range
        return low + (squashed + 1.0) / 2.0 * (high - low)


def _shape(env: BaseEnv, agent_id: str) -> Shape:
    agent = env.agent(agent_id)
    action = agent.action
    if action.ncats or not action.dim_c:
        raise ConfigError(
            f"{BACKEND} backend: agent {agent_id!r} acts with dim_c={action.dim_c} ncats={list(action.ncats)}; "
            "expected continuous actions only (dim_c >= 1, no ncats)"
        )
    mode = agent.observation_mode
    return Shape(env.observation_size(agent_id, mode), action.range[0].copy(), action.range[1].copy(), mode)


def _policies(groups: Sequence[Sequence[str]], shapes: Mapping[str, Shape], vector: np.ndarray) -> dict[str, Policy]:
    """One :class:`LinearPolicy` per agent; the agents of a group read the same slice of ``vector``."""
    policies: dict[str, Policy] = {}
    start = 0
    for agent_ids in groups:
        size = shapes[agent_ids[0]].size
        for aid in agent_ids:
            policies[aid] = LinearPolicy(vector[start : start + size], shapes[aid])
        start += size
    return policies


class CEMTrainer:
    """Follows the :class:`heron.training.Trainer` protocol (see the module docs)."""

    def __init__(self, spec: ExperimentSpec) -> None:
        unknown = sorted(set(spec.hyperparams) - set(DEFAULTS))
        if unknown:
            raise ConfigError(f"{BACKEND} backend: unknown hyperparams {unknown}; known: {sorted(DEFAULTS)}")
        self.spec, self.params = spec, {**DEFAULTS, **spec.hyperparams}
        self.env = build_env(spec.env_config())
        self.groups = list(sharing_groups(self.env, spec.algorithm, BACKEND).values())
        self.shapes = {aid: _shape(self.env, aid) for aid in self.env.possible_agents}
        self.mean = np.zeros(sum(self.shapes[agent_ids[0]].size for agent_ids in self.groups))

    def policies(self) -> dict[str, Policy]:
        return _policies(self.groups, self.shapes, self.mean)

    def _done(self, episodes: Sequence[EpisodeRecord]) -> bool:
        stop = self.spec.stop
        if stop.episodes is not None and len(episodes) >= stop.episodes:
            return True
        if stop.env_steps is not None and episodes and episodes[-1].env_steps >= stop.env_steps:
            return True
        if stop.target_return is None or len(episodes) < SUMMARY_WINDOW:
            return False
        return float(np.mean([record.team_return for record in episodes[-SUMMARY_WINDOW:]])) >= stop.target_return

    def train(self, progress: ProgressCallback | None = None) -> TrainingResult:
        rng = np.random.default_rng(self.spec.seed)
        std = np.full_like(self.mean, self.params["init_std"])
        episodes: list[EpisodeRecord] = []
        env_steps, started, interrupted = 0, time.perf_counter(), False
        n_elite = max(1, int(self.params["population"] * self.params["elite_frac"]))
        try:
            while not self._done(episodes):
                candidates = self.mean + std * rng.standard_normal((self.params["population"], self.mean.size))
                scores = []
                for candidate in candidates:
                    if self._done(episodes):
                        break
                    policies = _policies(self.groups, self.shapes, candidate)
                    returns = run_episode(self.env, policies, seed=int(rng.integers(2**31)))
                    env_steps += self.env.step_count
                    episodes.append(EpisodeRecord(len(episodes) + 1, float(sum(returns.values())), returns, env_steps))
                    scores.append(episodes[-1].team_return)
                    if progress:
                        progress(episodes[-1])
                elite = candidates[np.argsort(scores)[::-1][:n_elite]]
                self.mean, std = elite.mean(axis=0), np.maximum(elite.std(axis=0), self.params["min_std"])
        except KeyboardInterrupt:
            interrupted = True
        elapsed = time.perf_counter() - started
        return TrainingResult(BACKEND, self.spec.algorithm, episodes, elapsed, env_steps, interrupted)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        shapes = {aid: [s.obs_dim, s.low.tolist(), s.high.tolist(), s.mode] for aid, s in self.shapes.items()}
        write_json_atomic(path / CHECKPOINT_FILE, {"groups": self.groups, "shapes": shapes, "mean": self.mean.tolist()})
        return path


def load_policies(path: str | Path) -> dict[str, Policy]:
    """The policies :meth:`CEMTrainer.save` wrote to ``path``."""
    file = Path(path) / CHECKPOINT_FILE
    try:
        data = json.loads(file.read_text())
        shapes = {aid: Shape(int(dim), np.asarray(low), np.asarray(high), str(mode))
                  for aid, (dim, low, high, mode) in data["shapes"].items()}
        return _policies(data["groups"], shapes, np.asarray(data["mean"], dtype=np.float64))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"cannot read {BACKEND} checkpoint {file}: {exc}") from exc


@hookimpl
def heron_backends() -> list[BackendSpec]:
    return [BackendSpec(BACKEND, ALGORITHMS, CEMTrainer, load_policies, "cross-entropy method (example)")]
