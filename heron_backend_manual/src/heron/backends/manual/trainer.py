"""The manual backend's trainer: batched REINFORCE with a learned baseline, for IPPO and MAPPO.

One training iteration plays one episode in each of ``num_envs`` env copies
(lock-step, batched forward passes), computes discounted returns (bootstrapped
by the critic where the time limit cut an episode), and takes one actor step on
the normalised advantages and ``critic_steps`` critic steps. The exploration
noise decays linearly over the budget in ``spec.stop``.

Everything random comes from ``spec.seed`` through one ``SeedSequence``: the
initial weights, the exploration noise and the seed of every training episode.
An iteration either completes or, on ``KeyboardInterrupt``, is rolled back, so
:meth:`ManualTrainer.save` after an interrupt (or in ``train``'s ``on_update``
callback) writes a consistent checkpoint and :meth:`ManualTrainer.restore`
continues exactly where it stopped: the continuation is bitwise identical to an
uninterrupted run of the same budget.

Every :class:`~heron.training.experiment.EpisodeRecord` carries the figures of
the update that trained on its episode in ``metrics``: ``<policy>/policy_loss``,
``<policy>/value_loss`` and ``<policy>/grad_norm`` per policy (an agent id for
ippo, an agent class for mappo, ``shared`` for mappo's ``policy_sharing="all"``), and
``exploration_sigma``.
"""

from __future__ import annotations

import copy
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from heron.backends.manual._groups import make_policies
from heron.backends.manual._learner import PolicyLearner
from heron.backends.manual._rollout import ActFn, EnvBatch, Rollout
from heron.backends.manual._state import read_trainer_state, trainer_state_writer
from heron.backends.manual.config import ManualConfig
from heron.core.errors import CheckpointError
from heron.core.policies import Policy
from heron.envs.builder import build_env
from heron.portable.checkpoint import PolicyCheckpoint, check_matches_env, load_checkpoint, save_checkpoint
from heron.training import SUMMARY_WINDOW
from heron.training.experiment import (
    EpisodeRecord,
    ExperimentSpec,
    ProgressCallback,
    TrainingResult,
    UpdateCallback,
)

__all__ = ["ManualTrainer"]

BACKEND_NAME = "manual"
_MAX_SEED = 2**31 - 1


class ManualTrainer:
    """Trains the policies of ``spec`` (see the module docs); follows :class:`heron.training.Trainer`.

    Raises:
        ConfigError: unknown or invalid hyperparams, an unknown env, or (mappo)
            agents of one kind with different spaces.
    """

    def __init__(self, spec: ExperimentSpec) -> None:
        self.spec = spec
        self.config = ManualConfig.from_hyperparams(spec.hyperparams, spec.algorithm)
        self.env_config = spec.env_config()
        env = build_env(self.env_config)
        self.env_id, self.max_steps = env.env_id, env.max_steps
        self.agent_ids = list(env.possible_agents)
        plans = make_policies(env, spec.algorithm, self.config.agent_id_input, self.config.policy_sharing)
        for plan in plans:
            self.config.check_shared_layers([group.name for group in plan.groups])
        self.groups = [group for plan in plans for group in plan.groups]
        init_seed, run_seed = np.random.SeedSequence(spec.seed).spawn(2)
        init_rng = np.random.default_rng(init_seed)
        self.rng = np.random.default_rng(run_seed)
        state_dim = env.state_space.shape[0]
        self.learners = [PolicyLearner(plan, self.config, state_dim, init_rng) for plan in plans]
        self._owners = [(learner, index) for learner in self.learners for index in range(len(learner.groups))]
        self.batch = EnvBatch(self.env_config, self.groups)
        self.history: list[EpisodeRecord] = []
        self.env_steps = 0

    # --------------------------------------------------------------- budget
    def _progress_fraction(self) -> float:
        stop = self.spec.stop
        fractions = []
        if stop.episodes is not None:
            fractions.append(len(self.history) / stop.episodes)
        if stop.env_steps is not None:
            fractions.append(self.env_steps / stop.env_steps)
        return min(1.0, max(fractions))

    def exploration_noise(self) -> float:
        """Standard deviation of the exploration noise for the next iteration."""
        start, end = self.config.noise_start, self.config.noise_end
        return start + (end - start) * self._progress_fraction()

    def _done(self) -> bool:
        stop = self.spec.stop
        if stop.target_return is not None and len(self.history) >= SUMMARY_WINDOW:
            recent = [record.team_return for record in self.history[-SUMMARY_WINDOW:]]
            if float(np.mean(recent)) >= stop.target_return:
                return True
        return self._progress_fraction() >= 1.0

    def _batch_size(self) -> int:
        stop, copies = self.spec.stop, self.config.num_envs
        if stop.episodes is not None:
            copies = min(copies, stop.episodes - len(self.history))
        if stop.env_steps is not None:
            copies = min(copies, math.ceil((stop.env_steps - self.env_steps) / self.max_steps))
        return copies

    # ------------------------------------------------------------- training
    def train(
        self, progress: ProgressCallback | None = None, *, on_update: UpdateCallback | None = None
    ) -> TrainingResult:
        """Train until ``spec.stop`` (counting episodes already trained).

        Args:
            progress: called with every episode's record, after the update that trained on it.
            on_update: called after each iteration (one update), once ``progress`` has seen its episodes;
                the trainer's state is consistent there, so :meth:`save` writes a checkpoint to resume from.

        A ``KeyboardInterrupt`` rolls back the unfinished iteration (one raised in a callback leaves the
        finished iteration in place) and returns the result so far with ``interrupted=True``.
        """
        started = time.perf_counter()
        interrupted = False
        try:
            while not self._done():
                snapshot = self._snapshot()
                try:
                    records = self._iteration()
                except KeyboardInterrupt:
                    self._load_snapshot(snapshot)
                    raise
                for record in records:
                    if progress is not None:
                        progress(record)
                if on_update is not None:
                    on_update()
        except KeyboardInterrupt:
            interrupted = True
        return TrainingResult(
            BACKEND_NAME, self.spec.algorithm, list(self.history), time.perf_counter() - started, self.env_steps,
            interrupted,
        )

    def _iteration(self) -> list[EpisodeRecord]:
        sigma = self.exploration_noise()
        seeds = self.rng.integers(0, _MAX_SEED, size=self._batch_size())
        for learner in self.learners:
            learner.begin_rollout()
        rollout = self.batch.run(seeds, self._act_fn(sigma), record_states=self.config.centralized_critic)
        metrics = {"exploration_sigma": sigma}
        start = 0
        for learner in self.learners:
            stop = start + len(learner.groups)
            figures = learner.update(rollout.groups[start:stop], rollout, sigma)
            metrics.update((f"{learner.name}/{key}", value) for key, value in figures.items())
            start = stop
        return self._commit(rollout, metrics)

    def _act_fn(self, sigma: float) -> ActFn:
        def act(
            group_index: int, obs: np.ndarray, agent_indices: np.ndarray
        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            learner, index = self._owners[group_index]
            return learner.act(index, obs, agent_indices, sigma, self.rng)

        return act

    def _commit(self, rollout: Rollout, metrics: dict[str, float]) -> list[EpisodeRecord]:
        records, steps = [], self.env_steps
        for returns, length in zip(rollout.agent_returns, rollout.lengths):
            steps += length
            team = float(sum(returns.values()))
            index = len(self.history) + len(records) + 1
            records.append(EpisodeRecord(index, team, dict(returns), steps, dict(metrics)))
        self.history, self.env_steps = self.history + records, steps
        return records

    def _snapshot(self) -> dict[str, Any]:
        return {
            "learners": [learner.state() for learner in self.learners],
            "rng": copy.deepcopy(self.rng.bit_generator.state),
            "episodes": len(self.history),
            "env_steps": self.env_steps,
        }

    def _load_snapshot(self, snapshot: dict[str, Any]) -> None:
        for learner, state in zip(self.learners, snapshot["learners"]):
            learner.load_state(state)
        self.rng.bit_generator.state = snapshot["rng"]
        self.history = self.history[: snapshot["episodes"]]
        self.env_steps = snapshot["env_steps"]

    # -------------------------------------------------------------- results
    def checkpoint(self) -> PolicyCheckpoint:
        """The current policies in the portable format of :mod:`heron.portable.checkpoint`."""
        return PolicyCheckpoint(
            networks={name: network for learner in self.learners for name, network in learner.networks().items()},
            agents={aid: group.name for group in self.groups for aid in group.agent_ids},
            info={
                "backend": BACKEND_NAME,
                "algorithm": self.spec.algorithm,
                "env_id": self.env_id,
                "spec": self.spec.to_dict(),
                "config": self.config.to_dict(),
                "episodes": len(self.history),
                "env_steps": self.env_steps,
            },
        )

    def policies(self) -> dict[str, Policy]:
        """``{agent_id: MLPPolicy}``: deterministic (mean) actions, usable without the trainer."""
        return dict(self.checkpoint().policies())

    def save(self, path: str | Path) -> Path:
        """Write the policies and the trainer's state to directory ``path`` atomically.

        :func:`heron.portable.checkpoint.load_policies` (or the backend's
        ``load_policies``) reads the policies; :meth:`restore` resumes training.
        """
        writer = trainer_state_writer(self.spec, self.learners, self.rng, self.history, self.env_steps)
        return save_checkpoint(path, self.checkpoint(), write_extra=writer)

    def restore(self, path: str | Path, *, allow_stop_change: bool = False) -> None:
        """Continue from a checkpoint :meth:`save` wrote: the next :meth:`train` goes on exactly from there.

        The checkpoint must have been trained with this trainer's spec (env, env_kwargs, algorithm, seed,
        hyperparams and stop); with ``allow_stop_change`` the budget ``stop`` may differ (the exploration
        noise then decays over the new budget). The saved random state replaces the one from ``spec.seed``.

        Raises:
            CheckpointError: the checkpoint is missing, corrupt or holds no trainer state; or its spec differs
                (the message names every differing field with the saved and the current value); or it does
                not match this trainer's env or network shapes.
        """
        where = f"checkpoint {path}"
        state = read_trainer_state(Path(path), self.spec, self.learners, self.agent_ids, allow_stop_change)
        check_matches_env(load_checkpoint(path), build_env(self.env_config), where)
        snapshot = self._snapshot()
        try:
            for learner in self.learners:
                learner.load_state(state.learners[learner.name], where)
        except CheckpointError:
            self._load_snapshot(snapshot)  # no half-restored trainer
            raise
        self.rng.bit_generator.state = state.rng
        self.history, self.env_steps = state.history, state.env_steps
