"""Backend-agnostic training: an :class:`ExperimentSpec` in, a :class:`Trainer` out.

Example::

    from heron.training import ExperimentSpec, make_trainer
    spec = ExperimentSpec(env="thermostat", algorithm="mappo", seed=1, stop={"episodes": 300})
    trainer = make_trainer(spec, backend="manual")
    result = trainer.train()
    policies = trainer.policies()          # {agent_id: Policy}
    trainer.save("runs/mappo")

The same spec runs on every backend: ``env`` is a registered name (with
``env_kwargs``) or a flat env_config dict, ``stop`` uses backend-neutral
criteria, and ``hyperparams`` is passed to the backend, which rejects keys
it does not know.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from heron.core.errors import BackendError, CheckpointError, ConfigError
from heron.core.policies import Policy
from heron.training.algorithms import ALGORITHM_DEFINITIONS, algorithm_definition
from heron.training.plugins import get_plugin_manager
from heron.training.registry import make_env_config
from heron.utils.validation import check_number

__all__ = [
    "ALGORITHMS",
    "SUMMARY_WINDOW",
    "EpisodeRecord",
    "ExperimentSpec",
    "ProgressCallback",
    "ResumableTrainer",
    "ReturnSummary",
    "SpecDifference",
    "StopCriteria",
    "Trainer",
    "TrainingResult",
    "UpdateCallback",
    "check_same_spec",
    "make_trainer",
    "spec_differences",
    "summarize_returns",
]

ALGORITHMS: tuple[str, ...] = tuple(ALGORITHM_DEFINITIONS)
"""The algorithm names every backend is expected to offer (their meaning: :mod:`heron.training.algorithms`)."""


@dataclass(frozen=True)
class StopCriteria:
    """When training stops: the first criterion reached (at least one must be set).

    Attributes:
        episodes: number of training episodes (per env copy summed).
        env_steps: number of environment steps; a backend stops at the end of the episode or batch in
            progress when it is reached, so it may run over by at most one of them.
        target_return: mean team return over the last ``SUMMARY_WINDOW`` (20) episodes to reach.
    """

    episodes: int | None = None
    env_steps: int | None = None
    target_return: float | None = None

    def __post_init__(self) -> None:
        for name in ("episodes", "env_steps"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, check_number(value, f"stop.{name}", minimum=1, integer=True))
        if self.target_return is not None:
            object.__setattr__(self, "target_return", check_number(self.target_return, "stop.target_return"))
        if self.episodes is None and self.env_steps is None:
            raise ConfigError("stop needs 'episodes' or 'env_steps' (target_return alone may never be reached)")

    @classmethod
    def coerce(cls, value: StopCriteria | Mapping[str, Any]) -> StopCriteria:
        if isinstance(value, StopCriteria):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(f"stop must be a dict or StopCriteria, got {value!r}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ConfigError(f"stop: unknown key(s) {unknown}; allowed keys are {sorted(known)}")
        return cls(**value)


@dataclass(frozen=True)
class ExperimentSpec:
    """Everything that defines a training run, independent of the backend.

    Attributes:
        env: a registered env name or a flat env_config dict.
        env_kwargs: arguments of the named env (e.g. ``{"num_rooms": 10}``).
        algorithm: ``"ippo"`` (one policy per agent) or ``"mappo"`` (one policy per kind of
            agent, centralized critic); defined in :mod:`heron.training.algorithms`.
        seed: the seed of everything random in the run.
        stop: :class:`StopCriteria` or a dict of its fields.
        hyperparams: backend-specific settings.
    """

    env: str | Mapping[str, Any] = "thermostat"
    env_kwargs: Mapping[str, Any] = field(default_factory=dict)
    algorithm: str = "ippo"
    seed: int = 0
    stop: StopCriteria | Mapping[str, Any] = field(default_factory=lambda: StopCriteria(episodes=300))
    hyperparams: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        algorithm_definition(self.algorithm)  # a ConfigError for an unknown name
        object.__setattr__(self, "seed", check_number(self.seed, "seed", minimum=0, integer=True))
        if not isinstance(self.env, (str, Mapping)):
            raise ConfigError(f"env must be a registered name or an env_config dict, got {self.env!r}")
        if isinstance(self.env, Mapping) and self.env_kwargs:
            raise ConfigError("env_kwargs only applies to a named env, not to an env_config dict")
        if not isinstance(self.hyperparams, Mapping):
            raise ConfigError(f"hyperparams must be a dict, got {self.hyperparams!r}")
        object.__setattr__(self, "stop", StopCriteria.coerce(self.stop))

    @property
    def env_name(self) -> str:
        """The env's name (its ``env_id`` for an env_config dict)."""
        return self.env if isinstance(self.env, str) else str(self.env.get("env_id", "custom"))

    def env_config(self) -> dict[str, Any]:
        """The flat env_config this spec trains on."""
        if isinstance(self.env, str):
            return make_env_config(self.env, **self.env_kwargs)
        return dict(self.env)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly description (an env_config dict is recorded by its env_id)."""
        return {
            "env": self.env_name,
            "env_kwargs": dict(self.env_kwargs),
            "algorithm": self.algorithm,
            "seed": self.seed,
            "stop": dataclasses.asdict(self.stop),  # type: ignore[arg-type]
            "hyperparams": dict(self.hyperparams),
        }

    @classmethod
    def from_dict(cls, data: Any, where: str = "experiment") -> ExperimentSpec:
        """The spec that :meth:`to_dict` describes (an entry of a run's config.json), every field required.

        Args:
            data: the description.
            where: how to name it in errors, e.g. ``"runs/x/config.json experiments[0]"``.

        Raises:
            ConfigError: ``data`` is not an object with exactly the spec's fields, or a value is invalid.
        """
        names = [f.name for f in dataclasses.fields(cls)]
        if not isinstance(data, Mapping):
            raise ConfigError(f"{where} must be an object with keys {names}, got {data!r}")
        missing, unknown = [n for n in names if n not in data], sorted(set(data) - set(names))
        if missing or unknown:
            raise ConfigError(f"{where} must have exactly the keys {names}: missing {missing}, unknown {unknown}")
        for name in ("env_kwargs", "hyperparams", "stop"):
            if not isinstance(data[name], Mapping):
                raise ConfigError(f"{where}: {name} must be an object, got {data[name]!r}")
        try:
            return cls(**{name: data[name] for name in names})
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None


@dataclass(frozen=True)
class EpisodeRecord:
    """One finished training episode.

    Attributes:
        episode: 1-based episode index.
        team_return: sum over acting agents of their episode returns.
        agent_returns: each acting agent's episode return.
        env_steps: environment steps so far.
        metrics: the backend's training figures at the time the episode was reported, by name
            (losses, entropy or exploration noise, ...); run folders write them to TensorBoard.
    """

    episode: int
    team_return: float
    agent_returns: Mapping[str, float]
    env_steps: int
    metrics: Mapping[str, float] = field(default_factory=dict)


@dataclass
class TrainingResult:
    """What a finished :meth:`Trainer.train` reports."""

    backend: str
    algorithm: str
    episodes: list[EpisodeRecord]
    wall_time_s: float
    env_steps: int
    interrupted: bool = False

    @property
    def returns(self) -> list[float]:
        """Team return of every episode, in order."""
        return [record.team_return for record in self.episodes]


SUMMARY_WINDOW = 20


@dataclass(frozen=True)
class ReturnSummary:
    """The tutorial's comparison figures for one training run."""

    first: float
    last: float
    best: float
    episodes: int

    @property
    def improvement(self) -> float:
        return self.last - self.first


def summarize_returns(returns: Sequence[float], window: int = SUMMARY_WINDOW) -> ReturnSummary:
    """Mean of the first and last ``window`` returns and the best ``window``-episode mean."""
    if not returns:
        raise ConfigError("no episodes to summarize")
    values = np.asarray(returns, dtype=np.float64)
    width = min(window, values.size)
    moving = np.convolve(values, np.ones(width) / width, mode="valid")
    return ReturnSummary(float(values[:width].mean()), float(values[-width:].mean()), float(moving.max()), values.size)


ProgressCallback = Callable[[EpisodeRecord], None]
UpdateCallback = Callable[[], None]


@runtime_checkable
class Trainer(Protocol):
    """What every backend's trainer offers."""

    spec: ExperimentSpec

    def train(self, progress: ProgressCallback | None = None) -> TrainingResult:
        """Train until ``spec.stop``; call ``progress`` after every episode.

        A trainer may also take ``on_update: UpdateCallback``, called after every completed update
        (iteration), when its state is consistent: ``heron train`` saves a checkpoint there. Without
        it, ``heron train`` checkpoints only at the end and says so.
        """
        ...

    def policies(self) -> dict[str, Policy]:
        """The trained ``{agent_id: Policy}``, usable in ``env.step`` and event-driven runs."""
        ...

    def save(self, path: str | Path) -> Path:
        """Write a checkpoint directory that the backend's ``load_policies`` reads."""
        ...


@runtime_checkable
class ResumableTrainer(Trainer, Protocol):
    """A trainer that continues from a checkpoint its ``save`` wrote (``heron train --resume``)."""

    def restore(self, path: str | Path, *, allow_stop_change: bool = False) -> None:
        """Load the checkpoint so that the next :meth:`train` goes on from it.

        Raises:
            CheckpointError: the checkpoint is missing or corrupt, or was trained with another spec; the
                message names every field that differs. ``stop`` may differ only with ``allow_stop_change``.
        """
        ...


class _Missing:
    """Stands for a key that one of two compared specs lacks."""

    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()


@dataclass(frozen=True)
class SpecDifference:
    """A field in which two spec descriptions differ: ``seed``, or ``hyperparams.lr`` inside a dict field."""

    field: str
    saved: Any
    current: Any

    def __str__(self) -> str:
        return f"{self.field}: saved {self.saved!r}, now {self.current!r}"


def _description(spec: ExperimentSpec | Mapping[str, Any]) -> dict[str, Any]:
    """``spec.to_dict()`` as JSON reads it back (tuples become lists), so saved and current compare alike."""
    data = spec.to_dict() if isinstance(spec, ExperimentSpec) else dict(spec)
    return json.loads(json.dumps(data, default=str))


def spec_differences(
    saved: ExperimentSpec | Mapping[str, Any], current: ExperimentSpec | Mapping[str, Any]
) -> list[SpecDifference]:
    """Every field in which two specs (or their :meth:`ExperimentSpec.to_dict` descriptions) differ, in field order.

    Dict-valued fields (``env_kwargs``, ``hyperparams``, ``stop``) are compared key by key; a key one side lacks
    shows as ``<missing>``.
    """
    old, new = _description(saved), _description(current)
    names = [f.name for f in dataclasses.fields(ExperimentSpec)]
    differences = []
    for name in names + sorted(set(old) - set(names)):
        before, after = old.get(name, _MISSING), new.get(name, _MISSING)
        if isinstance(before, dict) and isinstance(after, dict):
            for key in sorted(set(before) | set(after), key=str):
                if before.get(key, _MISSING) != after.get(key, _MISSING):
                    differences.append(
                        SpecDifference(f"{name}.{key}", before.get(key, _MISSING), after.get(key, _MISSING))
                    )
        elif before != after:
            differences.append(SpecDifference(name, before, after))
    return differences


def check_same_spec(saved: Any, current: ExperimentSpec, where: str, *, allow_stop_change: bool = False) -> None:
    """What :meth:`ResumableTrainer.restore` checks: the checkpoint's saved spec equals ``current``.

    Args:
        saved: the :meth:`ExperimentSpec.to_dict` description stored in the checkpoint.
        current: the spec of the trainer that restores it.
        where: names the checkpoint in the message, e.g. ``"checkpoint runs/x/checkpoints/ippo/v000003"``.
        allow_stop_change: ``stop`` (the budget) may differ.

    Raises:
        CheckpointError: ``saved`` is not a spec description, or differs from ``current``; the message names
            every differing field with both values.
    """
    if not isinstance(saved, Mapping):
        raise CheckpointError(f"{where}: the saved spec must be an experiment spec object, got {saved!r}")
    differences = [d for d in spec_differences(saved, current)
                   if not (allow_stop_change and d.field.startswith("stop."))]
    if differences:
        hint = ""
        if any(d.field.startswith("stop.") for d in differences):
            hint = " (the budget may change only with allow_stop_change=True; heron train --resume: --episodes N)"
        raise CheckpointError(
            f"{where} was trained with another spec: {'; '.join(map(str, differences))}{hint}"
        )


def make_trainer(spec: ExperimentSpec, backend: str = "manual") -> Trainer:
    """Build the trainer of ``backend`` for ``spec``.

    Raises:
        BackendError: if the backend is not installed, broken, or lacks the algorithm.
    """
    backend_spec = get_plugin_manager().backend(backend)
    if spec.algorithm not in backend_spec.algorithms:
        raise BackendError(
            f"backend {backend!r} does not offer algorithm {spec.algorithm!r}; "
            f"it offers {list(backend_spec.algorithms)}"
        )
    trainer = backend_spec.make_trainer(spec)
    if not isinstance(trainer, Trainer):
        raise BackendError(f"backend {backend!r} returned {trainer!r}, which is not a Trainer")
    return trainer
