"""The RLlib backend's :class:`~heron.training.ResumableTrainer`: an :class:`~heron.training.ExperimentSpec` in,
an RLlib PPO algorithm trained with the IPPO or MAPPO helper, episodes reported one by one.

Example::

    from heron.training import ExperimentSpec, make_trainer
    trainer = make_trainer(ExperimentSpec(algorithm="mappo", seed=1, stop={"episodes": 300}), backend="rllib")
    result = trainer.train()
    trainer.save("runs/mappo")       # see heron.backends.rllib.checkpoint for what it holds
    trainer.close()

Ray is started (or ``RAY_ADDRESS`` connected to, see :func:`~heron.backends.rllib.cluster.ensure_ray`) when
the trainer is made, unless the caller started it. The same seed gives the same returns within a process;
across processes RLlib's agent order follows Python's string hashing, so also fix ``PYTHONHASHSEED`` (the
``heron`` command does). ``hyperparams`` takes the keys of :data:`~heron.backends.rllib.configs.HYPERPARAMETERS`.

Budget: RLlib trains whole iterations of ``train_batch_size`` env steps, and every episode they finish
is reported and kept, so ``stop.episodes`` can be exceeded by up to one iteration;
:attr:`RLlibTrainer.budget_note` says by how much, before training.
"""

from __future__ import annotations

import copy
import json
import math
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import ray
from ray.rllib.algorithms.algorithm import Algorithm

from heron.adaptors.rllib_module_bridge import policies_from_algorithm
from heron.backends.rllib._noise import quiet_ray_logs
from heron.backends.rllib._state import decode_tree, encode_tree, read_arrays, write_arrays
from heron.backends.rllib.checkpoint import (
    METADATA_FILE,
    PORTABLE_DIR,
    RLLIB_CHECKPOINT,
    STATE_ARRAYS,
    STATE_JSON,
    read_metadata,
)
from heron.backends.rllib.cluster import ensure_ray
from heron.backends.rllib.configs import ippo_config, mappo_config
from heron.backends.rllib.export import export_policies
from heron.core.errors import BackendError, CheckpointError, ConfigError
from heron.core.policies import Policy
from heron.envs.builder import build_env
from heron.training import SUMMARY_WINDOW
from heron.training.experiment import (
    EpisodeRecord,
    ExperimentSpec,
    ProgressCallback,
    StopCriteria,
    TrainingResult,
    UpdateCallback,
    check_same_spec,
)
from heron.utils.files import write_json_atomic
from heron.utils.validation import check_number

__all__ = ["RLlibTrainer"]

_BACKEND_NAME = "rllib"
_EPISODES_METRIC = "heron_episodes"
"""Key of the per-episode records each env runner logs (an RLlib ``item_series`` metric)."""
_STATE_FORMAT = "heron-rllib-trainer-state"
_STATE_VERSION = 2  # 2: MAPPO has one module per agent kind (1: one module, shared_policy)
_CPU_WAIT_S = 30.0
"""How long building the algorithm waits for its env runners' CPUs to be free (RLlib itself waits forever)."""
_LEARNER_METRICS = ("policy_loss", "vf_loss", "entropy", "total_loss", "vf_explained_var")
"""What :class:`EpisodeRecord.metrics` reports per module, as ``learner/<module_id>/<name>``."""


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


def _validate(config: Any) -> None:
    """RLlib's own checks of the config, as a one-line ConfigError."""
    try:
        config.validate()
    except ValueError as exc:
        first_line = (str(exc).strip().splitlines() or [""])[0]
        raise ConfigError(f"backend 'rllib': invalid settings: {first_line}") from exc


def _runner_cpus(config: Any) -> tuple[int, float]:
    """``(env runners, CPUs they need)``."""
    runners = int(config.num_env_runners)
    return runners, runners * float(config.num_cpus_per_env_runner)


def _check_cpus(config: Any) -> None:
    """A ConfigError when the env runners need more CPUs than the Ray cluster has (RLlib would wait forever)."""
    (runners, needed), total = _runner_cpus(config), ray.cluster_resources().get("CPU", 0.0)
    if needed > total:
        raise ConfigError(
            f"hyperparams.num_env_runners={runners} needs {needed:g} CPUs ({needed / runners:g} per env runner), but "
            f"the Ray cluster has {total:g}: lower num_env_runners, or connect to a larger cluster (RAY_ADDRESS)"
        )


def _wait_for_cpus(config: Any) -> None:
    """Wait up to :data:`_CPU_WAIT_S` for the env runners' CPUs to be free, then a BackendError (not a hang)."""
    runners, needed = _runner_cpus(config)
    deadline = time.monotonic() + _CPU_WAIT_S
    while (free := ray.available_resources().get("CPU", 0.0)) < needed:
        if time.monotonic() > deadline:
            raise BackendError(
                f"hyperparams.num_env_runners={runners} needs {needed:g} CPUs, but only {free:g} of the Ray cluster's "
                f"have been free for {_CPU_WAIT_S:.0f} s: another algorithm's env runners (close() trainers you are "
                "done with) or other jobs hold them"
            )
        time.sleep(0.5)


def _iteration_metrics(result: Mapping[str, Any]) -> dict[str, float]:
    """The training figures of one ``algo.train()`` result (see :class:`RLlibTrainer`); NaNs are left out."""
    metrics = {
        f"learner/{module_id}/{name}": float(figures[name])
        for module_id, figures in result.get("learners", {}).items()
        if module_id != "__all_modules__" and isinstance(figures, Mapping)
        for name in _LEARNER_METRICS
        if name in figures
    }
    steps, seconds = result.get("env_runners", {}).get("num_env_steps_sampled"), result.get("time_this_iter_s")
    if steps is not None and seconds:
        metrics["env_steps_per_s"] = float(steps) / float(seconds)
    return {name: value for name, value in metrics.items() if math.isfinite(value)}


def _set_state(algo: Algorithm, state: dict[str, Any]) -> None:
    """``algo.set_state(state)``, env runners included, also for an older state than the algorithm's own.

    Raises:
        ValueError: the state's modules are not the algorithm's (RLlib would skip unknown ones and keep fresh
            weights for the others).
    """
    saved, own = sorted(state["learner_group"]["learner"]["rl_module"]), sorted(algo.config.policies)
    if saved != own:
        raise ValueError(f"its modules are {saved}, this algorithm's are {own}")
    # Env runners take weights only with a higher sequence number than the ones they hold: without the bump,
    # a rolled-back or restored state would leave them on the newer weights.
    now = algo.learner_group.get_state()["learner"]["weights_seq_no"]
    learner = state["learner_group"]["learner"]
    learner["weights_seq_no"] = max(int(learner.get("weights_seq_no", 0)), now + 1)
    algo.set_state(state)


class RLlibTrainer:
    """Trains ``spec`` with RLlib's PPO through :func:`ippo_config` or :func:`mappo_config`.

    Making it checks the spec, the hyper-parameters (RLlib's ``config.validate()`` included) and Ray;
    the algorithm is built on the first :meth:`train`, :meth:`policies` or :meth:`restore`.

    Each :class:`~heron.training.EpisodeRecord` carries in ``metrics`` the figures of the iteration that
    reported it: ``learner/<module_id>/{policy_loss, vf_loss, entropy, total_loss, vf_explained_var}`` and
    ``env_steps_per_s`` (env steps sampled per second of the whole iteration); a figure RLlib reports as NaN
    is left out.

    Raises:
        ConfigError: a bad spec or hyper-parameter, naming it.
        BackendError: Ray cannot be started or reached.
    """

    def __init__(self, spec: ExperimentSpec) -> None:
        self.spec = spec
        quiet_ray_logs()
        helper = mappo_config if spec.algorithm == "mappo" else ippo_config
        env_config = spec.env_config()
        self.config = helper(env_config, seed=spec.seed, hyperparams=spec.hyperparams).callbacks(
            on_episode_end=record_episode
        )
        _validate(self.config)
        self._max_steps = build_env(env_config).max_steps
        ensure_ray()
        _check_cpus(self.config)
        self.algo: Algorithm | None = None
        self._episodes: list[EpisodeRecord] = []
        self._env_steps = 0

    def _algorithm(self) -> Algorithm:
        if self.algo is None:
            _wait_for_cpus(self.config)
            self.algo = self.config.build_algo()
        return self.algo

    @property
    def budget_note(self) -> str | None:
        """One line on how many episodes ``stop.episodes`` trains, when RLlib's whole iterations exceed it."""
        wanted = self.spec.stop.episodes  # type: ignore[union-attr]
        if wanted is None:
            return None
        batch, steps = int(self.config.train_batch_size), self._max_steps
        copies = max(1, int(self.config.num_env_runners)) * int(self.config.num_envs_per_env_runner)
        why = f"RLlib trains whole iterations of train_batch_size={batch} env steps"
        if batch % (copies * steps) == 0:
            per_iteration = batch // steps
            planned = math.ceil(wanted / per_iteration) * per_iteration
            if planned == wanted:
                return None
            return (f"stop.episodes={wanted} trains {planned} episodes: {why}, {per_iteration} episodes of {steps} "
                    f"steps (more if episodes end early); all are kept. train_batch_size={steps} x a divisor of "
                    f"{wanted} trains exactly {wanted}")
        return (f"stop.episodes={wanted} trains at least {wanted} episodes: {why} (about {batch / steps:g} episodes "
                f"of up to {steps} steps) and stops after the first that completes {wanted}; all are kept")

    def train(
        self, progress: ProgressCallback | None = None, *, on_update: UpdateCallback | None = None
    ) -> TrainingResult:
        """Run PPO iterations until ``spec.stop`` (counting episodes already trained, e.g. before a restore).

        ``progress`` is called after every finished episode, ``on_update`` after every iteration (when
        :meth:`save` writes a consistent checkpoint). A ``KeyboardInterrupt`` during an iteration rolls the
        algorithm back to the state before it and returns the result so far with ``interrupted=True``.
        """
        algo = self._algorithm()
        stop: StopCriteria = self.spec.stop  # type: ignore[assignment]
        start = time.perf_counter()
        interrupted = False
        try:
            while not self._done(stop):
                before = copy.deepcopy(algo.get_state())  # arrays may share memory with the live tensors
                try:
                    result = algo.train()
                except KeyboardInterrupt:
                    _set_state(algo, before)
                    raise
                records = self._record(result)
                for record in records:
                    if progress is not None:
                        progress(record)
                if on_update is not None:
                    on_update()
        except KeyboardInterrupt:
            interrupted = True
        return TrainingResult(
            _BACKEND_NAME, self.spec.algorithm, list(self._episodes), time.perf_counter() - start, self._env_steps,
            interrupted,
        )

    def _record(self, result: Mapping[str, Any]) -> list[EpisodeRecord]:
        """Add the episodes an iteration finished to the history; return them."""
        metrics = _iteration_metrics(result)
        records, steps = [], self._env_steps
        for item in result.get("env_runners", {}).get(_EPISODES_METRIC, []):
            steps += int(item["length"])
            returns = dict(item["returns"])
            number = len(self._episodes) + len(records) + 1
            records.append(EpisodeRecord(number, float(sum(returns.values())), returns, steps, dict(metrics)))
        self._episodes, self._env_steps = self._episodes + records, steps
        return records

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

    # ---------------------------------------------------------- checkpoints
    def save(self, path: str | Path) -> Path:
        """Write the run to directory ``path`` (layout: :mod:`heron.backends.rllib.checkpoint`).

        When a policy cannot be exported to the portable format (observation clipping), a warning is
        issued and ``heron_rllib.json`` records why; the rest is complete.
        """
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        algo = self._algorithm()
        tree, arrays = encode_tree(algo.get_state())
        write_arrays(path / STATE_ARRAYS, arrays)
        write_json_atomic(path / STATE_JSON, {
            "format": _STATE_FORMAT, "format_version": _STATE_VERSION, "algorithm_state": tree,
            "env_steps": self._env_steps, "episodes": [_record_to_json(record) for record in self._episodes],
        })
        algo.save_to_path(str((path / RLLIB_CHECKPOINT).resolve()))
        info: dict[str, Any] = {"backend": _BACKEND_NAME, "experiment": self.spec.to_dict(),
                                "iterations": algo.iteration, "episodes": len(self._episodes),
                                "env_steps": self._env_steps}
        try:
            export_policies(algo, path / PORTABLE_DIR, info)
            info["portable"] = True
        except BackendError as exc:  # e.g. obs_clip set: the rest of the checkpoint is still complete
            info["portable"] = False
            info["portable_error"] = str(exc)
            warnings.warn(f"{path}: no portable policies: {exc}", stacklevel=2)
        write_json_atomic(path / METADATA_FILE, info)
        return path

    def restore(self, path: str | Path, *, allow_stop_change: bool = False) -> None:
        """Continue from a checkpoint :meth:`save` wrote, reading data only (JSON and a pickle-free ``.npz``).

        The algorithm gets the saved weights, optimizer state, connector (observation filter) state,
        metrics and counters; the episode history and env-step count continue, so the next :meth:`train`
        goes on numbering episodes and counts them against ``spec.stop``. Sampling restarts with fresh env
        resets, so the continuation is not bitwise identical to an uninterrupted run.

        Raises:
            CheckpointError: the checkpoint is missing or corrupt, or its spec differs from this trainer's (every
                differing field is named; ``stop`` may differ with ``allow_stop_change``). After a failed
                :meth:`~ray.rllib.algorithms.algorithm.Algorithm.set_state` the algorithm is rebuilt on next use.
        """
        path = Path(path)
        info = read_metadata(path)
        check_same_spec(info.get("experiment"), self.spec, f"checkpoint {path}", allow_stop_change=allow_stop_change)
        saved = _read_state_file(path / STATE_JSON)
        state = decode_tree(saved["algorithm_state"], read_arrays(path / STATE_ARRAYS), str(path / STATE_JSON))
        episodes = [_record_from_json(entry, i, path / STATE_JSON) for i, entry in enumerate(saved["episodes"])]
        env_steps = check_number(saved["env_steps"], f"{path / STATE_JSON}: env_steps", minimum=0, integer=True,
                                 error=CheckpointError)
        algo = self._algorithm()
        try:
            _set_state(algo, state)
        except (KeyError, IndexError, TypeError, ValueError, RuntimeError) as exc:
            self.close()
            raise CheckpointError(
                f"{path / STATE_JSON} does not fit this trainer's algorithm: {type(exc).__name__}: {exc}"
            ) from exc
        self._episodes, self._env_steps = episodes, env_steps

    def close(self) -> None:
        """Stop the algorithm (its env runner actors and learners)."""
        if self.algo is not None:
            self.algo.stop()
            self.algo = None


def _record_to_json(record: EpisodeRecord) -> dict[str, Any]:
    return {"team_return": record.team_return, "agent_returns": dict(record.agent_returns),
            "env_steps": record.env_steps, "metrics": dict(record.metrics)}


def _record_from_json(entry: Any, index: int, file: Path) -> EpisodeRecord:
    where = f"{file}: episodes[{index}]"
    if not isinstance(entry, dict) or not isinstance(entry.get("agent_returns"), dict) \
            or not isinstance(entry.get("metrics", {}), dict):
        raise CheckpointError(f"{where} must be an object with team_return, agent_returns, env_steps and metrics")

    def finite(value: Any, name: str) -> float:
        return float(check_number(value, f"{where}.{name}", error=CheckpointError))

    metrics = entry.get("metrics", {})
    bad = [name for name, value in metrics.items() if isinstance(value, bool) or not isinstance(value, (int, float))]
    if bad:
        raise CheckpointError(f"{where}.metrics[{bad[0]!r}] must be a number, got {metrics[bad[0]]!r}")
    return EpisodeRecord(
        index + 1,
        finite(entry.get("team_return"), "team_return"),
        {str(aid): finite(value, f"agent_returns.{aid}") for aid, value in entry["agent_returns"].items()},
        check_number(entry.get("env_steps"), f"{where}.env_steps", minimum=0, integer=True, error=CheckpointError),
        {str(name): float(value) for name, value in metrics.items()},
    )


def _read_state_file(file: Path) -> dict[str, Any]:
    try:
        saved = json.loads(file.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{file} is missing or corrupt: {exc}") from exc
    if not isinstance(saved, dict) or saved.get("format") != _STATE_FORMAT \
            or saved.get("format_version") != _STATE_VERSION:
        raise CheckpointError(f"{file} is not a {_STATE_FORMAT} file of version {_STATE_VERSION}")
    missing = [key for key in ("algorithm_state", "episodes", "env_steps") if key not in saved]
    if missing or not isinstance(saved["episodes"], list):
        raise CheckpointError(f"{file} lacks {missing or ['a list of episodes']}")
    return saved
