"""The ``cem`` backend: cross-entropy method search over linear policies.

Each candidate is a parameter vector; it plays one seeded episode and its team
return is its score. The best ``elite_frac`` of a population move the search
distribution's mean and spread. ``ippo`` searches one linear policy per agent,
``mappo`` one linear policy shared by every agent.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from heron.core import CheckpointError, ConfigError, Policy
from heron.core.policies import obs_to_vector, vector_to_action
from heron.envs import build_env
from heron.evaluation.episodes import run_episode
from heron.training import BackendSpec, EpisodeRecord, TrainingResult
from heron.training.hookspecs import hookimpl

DEFAULTS = {"population": 16, "elite_frac": 0.25, "init_std": 0.5, "min_std": 0.02}


class LinearPolicy(Policy):
    """``action = low + (tanh(W obs + b) + 1) / 2 * (high - low)``."""

    def __init__(self, weights: np.ndarray, obs_dim: int, low: np.ndarray, high: np.ndarray, mode: str) -> None:
        self.observation_mode, self.obs_dim, self.action_dim = mode, obs_dim, low.size
        self.action_range = (low, high)
        self.weights = weights.reshape(low.size, obs_dim + 1)

    @obs_to_vector
    @vector_to_action
    def forward(self, obs_vec: np.ndarray) -> np.ndarray:
        squashed = np.tanh(self.weights[:, :-1] @ obs_vec + self.weights[:, -1])
        low, high = self.action_range
        return low + (squashed + 1.0) / 2.0 * (high - low)


class CEMTrainer:
    """Follows the :class:`heron.core.Trainer` protocol."""

    def __init__(self, spec) -> None:
        unknown = sorted(set(spec.hyperparams) - set(DEFAULTS))
        if unknown:
            raise ConfigError(f"cem backend: unknown hyperparams {unknown}; known: {sorted(DEFAULTS)}")
        self.spec, self.params = spec, {**DEFAULTS, **spec.hyperparams}
        self.env = build_env(spec.env_config())
        self.shapes = {}
        for aid in self.env.possible_agents:
            space = self.env.action_space(aid)
            mode = self.env.agent(aid).observation_mode
            self.shapes[aid] = (self.env.observation_space(aid).shape[0], space.low, space.high, mode)
        self.groups = [[aid] for aid in self.env.possible_agents]
        if spec.algorithm == "mappo":
            if len({(s[0], s[1].tobytes(), s[2].tobytes(), s[3]) for s in self.shapes.values()}) != 1:
                raise ConfigError(f"cem mappo: agents need identical spaces to share a policy; got {self.shapes}")
            self.groups = [list(self.env.possible_agents)]
        self.sizes = [(self.shapes[g[0]][0] + 1) * self.shapes[g[0]][1].size for g in self.groups]
        self.mean = np.zeros(sum(self.sizes))

    def _policies_for(self, vector: np.ndarray) -> dict[str, Policy]:
        policies, start = {}, 0
        for group, size in zip(self.groups, self.sizes):
            for aid in group:
                obs_dim, low, high, mode = self.shapes[aid]
                policies[aid] = LinearPolicy(vector[start : start + size], obs_dim, low, high, mode)
            start += size
        return policies

    def policies(self) -> dict[str, Policy]:
        return self._policies_for(self.mean)

    def train(self, progress=None) -> TrainingResult:
        rng = np.random.default_rng(self.spec.seed)
        std = np.full_like(self.mean, self.params["init_std"])
        episodes: list[EpisodeRecord] = []
        started, interrupted = time.perf_counter(), False
        n_elite = max(1, int(self.params["population"] * self.params["elite_frac"]))
        try:
            while len(episodes) < self.spec.stop.episodes:
                candidates = self.mean + std * rng.standard_normal((self.params["population"], self.mean.size))
                scores = []
                for candidate in candidates[: self.spec.stop.episodes - len(episodes)]:
                    returns = run_episode(self.env, self._policies_for(candidate), seed=int(rng.integers(2**31)))
                    steps = (len(episodes) + 1) * self.env.max_steps
                    episodes.append(EpisodeRecord(len(episodes) + 1, sum(returns.values()), returns, steps))
                    scores.append(episodes[-1].team_return)
                    if progress:
                        progress(episodes[-1])
                elite = candidates[np.argsort(scores)[::-1][:n_elite]]
                self.mean, std = elite.mean(axis=0), np.maximum(elite.std(axis=0), self.params["min_std"])
        except KeyboardInterrupt:
            interrupted = True
        steps = episodes[-1].env_steps if episodes else 0
        return TrainingResult("cem", self.spec.algorithm, episodes, time.perf_counter() - started, steps, interrupted)

    def save(self, path) -> Path:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        shapes = {aid: [s[0], s[1].tolist(), s[2].tolist(), s[3]] for aid, s in self.shapes.items()}
        data = {"groups": self.groups, "sizes": self.sizes, "shapes": shapes, "mean": self.mean.tolist()}
        (path / "cem.json").write_text(json.dumps(data))
        return path


def load_policies(path) -> dict[str, Policy]:
    file = Path(path) / "cem.json"
    try:
        data = json.loads(file.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"cannot read cem checkpoint {file}: {exc}") from exc
    trainer = CEMTrainer.__new__(CEMTrainer)
    trainer.groups, trainer.sizes, trainer.mean = data["groups"], data["sizes"], np.asarray(data["mean"])
    trainer.shapes = {aid: (s[0], np.asarray(s[1]), np.asarray(s[2]), s[3]) for aid, s in data["shapes"].items()}
    return trainer.policies()


@hookimpl
def heron_backends() -> list[BackendSpec]:
    return [BackendSpec("cem", ("ippo", "mappo"), CEMTrainer, load_policies, "cross-entropy method (example)")]
