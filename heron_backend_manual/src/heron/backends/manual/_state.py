"""The trainer's own files in a checkpoint directory, for resuming training exactly.

Beside the portable policy files of :mod:`heron.portable.checkpoint`, the manual
trainer writes ``trainer_state.json`` (format, the spec it trained, policy
names, the random generator's state, counters) and ``trainer_state.npz``
(actor and critic weights, Adam moments, normaliser statistics, the episode
history).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from heron.backends.manual._learner import PolicyLearner
from heron.core.errors import CheckpointError
from heron.training.experiment import EpisodeRecord, ExperimentSpec, check_same_spec
from heron.utils.validation import check_number

STATE_FORMAT = "heron-manual-trainer-state"
STATE_VERSION = 2  # 2: per-group actor layers, split first layers (embedding of the one-hot id)
STATE_JSON = "trainer_state.json"
STATE_ARRAYS = "trainer_state.npz"


@dataclass
class TrainerState:
    """What :func:`read_trainer_state` returns."""

    learners: dict[str, dict[str, np.ndarray]]
    rng: dict[str, Any]
    history: list[EpisodeRecord]
    env_steps: int


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def trainer_state_writer(
    spec: ExperimentSpec,
    learners: Sequence[PolicyLearner],
    rng: np.random.Generator,
    history: Sequence[EpisodeRecord],
    env_steps: int,
) -> Callable[[Path], None]:
    """A ``write_extra`` function for :func:`~heron.portable.checkpoint.save_checkpoint` (state captured now)."""
    agent_ids = _agent_order(learners)
    metadata = {
        "format": STATE_FORMAT,
        "format_version": STATE_VERSION,
        "spec": _jsonable(spec.to_dict()),
        "policies": [learner.name for learner in learners],
        "agents": agent_ids,
        "rng": rng.bit_generator.state,
        "env_steps": env_steps,
    }
    arrays = {
        f"policy/{learner.name}/{key}": value for learner in learners for key, value in learner.state().items()
    }
    arrays["history/team_return"] = np.array([record.team_return for record in history])
    arrays["history/agent_returns"] = np.array(
        [[record.agent_returns[aid] for aid in agent_ids] for record in history]
    ).reshape(len(history), len(agent_ids))
    arrays["history/env_steps"] = np.array([record.env_steps for record in history], dtype=np.int64)

    def write(directory: Path) -> None:
        with open(directory / STATE_ARRAYS, "wb") as handle:
            np.savez(handle, **arrays)
        (directory / STATE_JSON).write_text(json.dumps(metadata, indent=2))

    return write


def _load_arrays(file: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(file, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"{file} is corrupt: {exc}") from exc


def read_trainer_state(
    path: Path,
    spec: ExperimentSpec,
    learners: Sequence[PolicyLearner],
    agent_ids: Sequence[str],
    allow_stop_change: bool = False,
) -> TrainerState:
    """Read and check the trainer state in checkpoint directory ``path`` against ``spec`` and ``learners``.

    Raises:
        CheckpointError: the files are missing or corrupt, were written for another set of policies, or with
            another spec (see :func:`~heron.training.experiment.check_same_spec`; ``stop`` may differ only
            with ``allow_stop_change``).
    """
    where = f"checkpoint {path}"
    meta_file, arrays_file = path / STATE_JSON, path / STATE_ARRAYS
    if not meta_file.is_file() or not arrays_file.is_file():
        raise CheckpointError(
            f"{where} holds policies but no manual trainer state ({STATE_JSON}, {STATE_ARRAYS}); "
            "only checkpoints saved by the manual backend's trainer can resume training"
        )
    try:
        meta = json.loads(meta_file.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{meta_file} is corrupt: {exc}") from exc
    if not isinstance(meta, dict) or meta.get("format") != STATE_FORMAT or meta.get("format_version") != STATE_VERSION:
        raise CheckpointError(f"{meta_file} is not a {STATE_FORMAT} file of version {STATE_VERSION}")
    check_same_spec(meta.get("spec"), spec, where, allow_stop_change=allow_stop_change)
    names = [learner.name for learner in learners]
    if meta.get("policies") != names or meta.get("agents") != _agent_order(learners):
        raise CheckpointError(
            f"{where} has policies {meta.get('policies')} for agents {meta.get('agents')}, "
            f"this trainer has {names} for {list(agent_ids)}"
        )
    arrays = _load_arrays(arrays_file)
    policy_arrays: dict[str, dict[str, np.ndarray]] = {name: {} for name in names}
    for key, value in arrays.items():
        kind, _, rest = key.partition("/")
        if kind == "policy":
            name, _, array_name = rest.rpartition("/")
            policy_arrays.setdefault(name, {})[array_name] = value
    try:
        team = arrays["history/team_return"]
        per_agent = arrays["history/agent_returns"]
        steps = arrays["history/env_steps"]
    except KeyError as exc:
        raise CheckpointError(f"{arrays_file} lacks the episode history array {exc}") from exc
    order = list(meta["agents"])
    if per_agent.shape != (team.size, len(order)) or steps.shape != team.shape:
        raise CheckpointError(f"{arrays_file}: the episode history arrays have inconsistent shapes")
    history = [
        EpisodeRecord(i + 1, float(team[i]), dict(zip(order, per_agent[i].tolist())), int(steps[i]))
        for i in range(team.size)
    ]
    env_steps = check_number(meta.get("env_steps"), f"{meta_file}: env_steps", minimum=0, integer=True,
                             error=CheckpointError)
    return TrainerState(policy_arrays, _rng_state(meta.get("rng"), meta_file), history, env_steps)


def _agent_order(learners: Sequence[PolicyLearner]) -> list[str]:
    return [aid for learner in learners for group in learner.groups for aid in group.agent_ids]


_RNG_KEYS = {"bit_generator", "state", "has_uint32", "uinteger"}


def _rng_state(state: Any, meta_file: Path) -> dict[str, Any]:
    """The saved state of the trainer's PCG64 generator, checked entry by entry and by loading it."""
    problem = None
    if not isinstance(state, dict) or set(state) != _RNG_KEYS or state["bit_generator"] != "PCG64":
        problem = f"an object with keys {sorted(_RNG_KEYS)} and bit_generator 'PCG64'"
    elif not isinstance(state["state"], dict) or set(state["state"]) != {"state", "inc"} or not all(
        _is_int(value, 2**128) for value in state["state"].values()
    ):
        problem = "'state' must be {'state': S, 'inc': I} with integers in [0, 2**128)"
    elif not _is_int(state["has_uint32"], 2) or not _is_int(state["uinteger"], 2**32):
        problem = "has_uint32 must be 0 or 1 and uinteger an integer in [0, 2**32)"
    else:
        try:
            np.random.default_rng().bit_generator.state = state
        except (TypeError, ValueError, KeyError, OverflowError) as exc:
            problem = f"{type(exc).__name__}: {exc}"
    if problem is not None:
        raise CheckpointError(
            f"{meta_file}: 'rng' must be the state of a PCG64 generator ({problem}), got {_short(state)}"
        )
    return state


def _is_int(value: Any, limit: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < limit


def _short(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
