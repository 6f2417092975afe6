"""The RLlib backend's :class:`~heron.training.Trainer`: an :class:`~heron.training.ExperimentSpec` in,
an RLlib PPO algorithm trained with the IPPO or MAPPO helper, episodes reported one by one.

Example::

    from heron.training import ExperimentSpec, make_trainer
    trainer = make_trainer(ExperimentSpec(algorithm="mappo", seed=1, stop={"episodes": 300}), backend="rllib")
    result = trainer.train()
    trainer.save("runs/mappo")       # RLlib checkpoint, portable numpy policies, HERON metadata
    trainer.close()

Ray is started on first use (``ray.init(include_dashboard=False)``) unless the caller started it.
The same seed gives the same returns within a process; across processes RLlib's agent order follows
Python's string hashing, so also fix ``PYTHONHASHSEED`` (the ``heron`` command does).
``hyperparams`` takes the keys of :data:`~heron.backends.rllib.configs.HYPERPARAMETERS`.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import ray
from ray.rllib.algorithms.algorithm import Algorithm

from heron.adaptors.rllib_module_bridge import RLlibModuleBridge, policies_from_algorithm, policies_from_checkpoint
from heron.backends.rllib.configs import ippo_config, mappo_config
from heron.backends.rllib.export import export_policies
from heron.core.errors import BackendError, CheckpointError
from heron.core.policies import Policy
from heron.training import SUMMARY_WINDOW
from heron.training.experiment import EpisodeRecord, ExperimentSpec, ProgressCallback, StopCriteria, TrainingResult
from heron.utils.files import write_json_atomic

__all__ = ["RLlibTrainer", "load_policies"]

_BACKEND_NAME = "rllib"
_EPISODES_METRIC = "heron_episodes"
"""Key of the per-episode records each env runner logs (an RLlib ``item_series`` metric)."""
METADATA_FILE = "heron_rllib.json"
RLLIB_CHECKPOINT = "rllib_checkpoint"
PORTABLE_DIR = "portable"


# Not in __all__ but keeps its name: RLlib checkpoints pickle the callbacks in the config by reference.
def record_episode(*, episode: Any, metrics_logger: Any, prev_episode_chunks: Any = None, **kwargs: Any) -> None:
    """RLlib ``on_episode_end`` callback: log the episode's length and per-agent returns (all its chunks)."""
    chunks = [*(prev_episode_chunks or []), episode]
    returns: dict[str, float] = {}
    for chunk in chunks:
        for aid, agent_episode in chunk.agent_episodes.items():
            returns[str(aid)] = returns.get(str(aid), 0.0) + float(agent_episode.get_return())
    length = sum(len(chunk) for chunk in chunks)
    metrics_logger.log_value(_EPISODES_METRIC, {"length": length, "returns": returns}, reduce="item_series")


def ensure_ray() -> None:
    """Start a local Ray instance unless one is running (the caller's settings win)."""
    if not ray.is_initialized():
        ray.init(include_dashboard=False, log_to_driver=False)


class RLlibTrainer:
    """Trains ``spec`` with RLlib's PPO through :func:`ippo_config` or :func:`mappo_config`.

    The algorithm is built on the first :meth:`train` (or :meth:`policies`) call; bad specs and
    hyper-parameters fail already here.
    """

    def __init__(self, spec: ExperimentSpec) -> None:
        self.spec = spec
        helper = mappo_config if spec.algorithm == "mappo" else ippo_config
        self.config = helper(spec.env_config(), seed=spec.seed, hyperparams=spec.hyperparams).callbacks(
            on_episode_end=record_episode
        )
        self.algo: Algorithm | None = None
        self._episodes: list[EpisodeRecord] = []
        self._env_steps = 0

    def _algorithm(self) -> Algorithm:
        if self.algo is None:
            ensure_ray()
            self.algo = self.config.build_algo()
        return self.algo

    def train(self, progress: ProgressCallback | None = None) -> TrainingResult:
        """Run PPO iterations until ``spec.stop``; ``progress`` is called after every finished episode."""
        algo = self._algorithm()
        stop: StopCriteria = self.spec.stop  # type: ignore[assignment]
        start = time.perf_counter()
        interrupted = False
        try:
            while not self._done(stop):
                result = algo.train()
                for item in result.get("env_runners", {}).get(_EPISODES_METRIC, []):
                    self._record(item, progress)
        except KeyboardInterrupt:
            interrupted = True
        return TrainingResult(
            _BACKEND_NAME, self.spec.algorithm, list(self._episodes), time.perf_counter() - start, self._env_steps,
            interrupted,
        )

    def _record(self, item: Mapping[str, Any], progress: ProgressCallback | None) -> None:
        self._env_steps += int(item["length"])
        returns = dict(item["returns"])
        record = EpisodeRecord(len(self._episodes) + 1, float(sum(returns.values())), returns, self._env_steps)
        self._episodes.append(record)
        if progress is not None:
            progress(record)

    def _done(self, stop: StopCriteria) -> bool:
        if stop.episodes is not None and len(self._episodes) >= stop.episodes:
            return True
        if stop.env_steps is not None and self._env_steps >= stop.env_steps:
            return True
        if stop.target_return is not None and len(self._episodes) >= SUMMARY_WINDOW:
            recent = [record.team_return for record in self._episodes[-SUMMARY_WINDOW:]]
            return sum(recent) / len(recent) >= stop.target_return
        return False

    def policies(self) -> dict[str, Policy]:
        """``{agent_id: RLlibModuleBridge}`` of the current modules (snapshots)."""
        return dict(policies_from_algorithm(self._algorithm()))

    def save(self, path: str | Path) -> Path:
        """Write the run to directory ``path``.

        * ``rllib_checkpoint/``: ``algo.save_to_path`` (``Algorithm.from_checkpoint`` resumes training);
        * ``portable/``: the policies in HERON's numpy format (:func:`heron.portable.checkpoint.load_policies`
          loads them with heron-core alone); when a policy cannot be exported (observation clipping), a
          warning is issued and ``heron_rllib.json`` records why;
        * ``heron_rllib.json``: the experiment and how far it trained.
        """
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        algo = self._algorithm()
        algo.save_to_path(str((path / RLLIB_CHECKPOINT).resolve()))
        info = {"backend": _BACKEND_NAME, "experiment": self.spec.to_dict(), "iterations": algo.iteration,
                "episodes": len(self._episodes), "env_steps": self._env_steps}
        try:
            export_policies(algo, path / PORTABLE_DIR, info)
            info["portable"] = PORTABLE_DIR
        except BackendError as exc:  # e.g. obs_clip set: the RLlib checkpoint is still complete
            info["portable"] = None
            info["portable_error"] = str(exc)
            warnings.warn(f"{path}: no portable policies: {exc}", stacklevel=2)
        write_json_atomic(path / METADATA_FILE, info)
        return path

    def close(self) -> None:
        """Stop the algorithm (its env runner actors and learners)."""
        if self.algo is not None:
            self.algo.stop()
            self.algo = None


def load_policies(path: str | Path) -> dict[str, RLlibModuleBridge]:
    """The policies an :class:`RLlibTrainer` saved in ``path``.

    Raises:
        CheckpointError: if ``path`` holds no RLlib trainer checkpoint.
    """
    path = Path(path)
    if not (path / METADATA_FILE).is_file():
        raise CheckpointError(f"{path} is not an RLlib backend checkpoint: {METADATA_FILE} is missing")
    try:
        json.loads((path / METADATA_FILE).read_text())
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path / METADATA_FILE} is not valid JSON: {exc}") from exc
    return policies_from_checkpoint(path / RLLIB_CHECKPOINT)
