"""Conformance suite for HERON backends (needs pytest).

A backend's tests subclass :class:`BackendConformance` and name the backend::

    from heron.testing.conformance import BackendConformance

    class TestMyBackend(BackendConformance):
        backend = "mybackend"
        budget = {"episodes": 200}          # enough for the margin below
        hyperparams = {"lr": 0.01}

Every test then runs against the installed backend: it is registered through
the ``heron`` entry-point group, reports ``ippo`` and ``mappo``, trains both
on the two-room thermostat and improves, gives policies that work in
``env.step`` and in event-driven runs, saves and loads them with the same
returns, rejects bad specs with clear errors, and is deterministic under a seed.
Training results are shared between tests of one class, so each algorithm
trains twice (once more for the determinism check).
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

try:
    import pytest
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("heron.testing.conformance needs pytest: pip install pytest") from exc

from heron.core.errors import CheckpointError, ConfigError
from heron.core.policies import Policy
from heron.evaluation.episodes import evaluate_policies
from heron.training import summarize_returns
from heron.training.experiment import ALGORITHMS, ExperimentSpec, Trainer, TrainingResult, make_trainer
from heron.training.plugins import ENTRY_POINT_GROUP, get_plugin_manager
from heron.training.registry import make_env

__all__ = ["BackendConformance", "TrainedRun"]


class TrainedRun:
    """A trainer after training, with its result."""

    def __init__(self, trainer: Trainer, result: TrainingResult) -> None:
        self.trainer = trainer
        self.result = result


class BackendConformance:
    """Subclass it in a test module and set :attr:`backend` (see module docs)."""

    backend: ClassVar[str] = ""
    env: ClassVar[str] = "thermostat"
    env_kwargs: ClassVar[Mapping[str, Any]] = {}
    budget: ClassVar[Mapping[str, Any]] = {"episodes": 200}
    hyperparams: ClassVar[Mapping[str, Any]] = {}
    seed: ClassVar[int] = 0
    improvement_margin: ClassVar[float] = 5.0
    """How much the mean team return of the last 20 episodes must exceed the first 20's."""
    window: ClassVar[int] = 20

    # ----------------------------------------------------------- helpers
    @classmethod
    def spec(cls, algorithm: str, **overrides: Any) -> ExperimentSpec:
        """The experiment this suite runs for ``algorithm``, with ``overrides``."""
        fields: dict[str, Any] = {
            "env": cls.env,
            "env_kwargs": dict(cls.env_kwargs),
            "algorithm": algorithm,
            "seed": cls.seed,
            "stop": dict(cls.budget),
            "hyperparams": dict(cls.hyperparams),
        }
        fields.update(overrides)
        return ExperimentSpec(**fields)

    @pytest.fixture(scope="class")
    @classmethod
    def trained(cls) -> dict[str, TrainedRun]:
        """Each algorithm trained once, shared by the tests of the class."""
        if not cls.backend:
            pytest.fail("set `backend` on your BackendConformance subclass")
        runs = {}
        for algorithm in ALGORITHMS:
            trainer = make_trainer(cls.spec(algorithm), cls.backend)
            runs[algorithm] = TrainedRun(trainer, trainer.train())
        return runs

    # ----------------------------------------------------- registration
    def test_registered_through_the_entry_point_group(self):
        entry = get_plugin_manager().backends().get(self.backend)
        assert entry is not None, f"backend {self.backend!r} is not provided by any working plugin"
        names = {ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
        assert entry.plugin.name in names, f"plugin {entry.plugin.name!r} is not a '{ENTRY_POINT_GROUP}' entry point"

    def test_reports_ippo_and_mappo(self):
        algorithms = get_plugin_manager().backend(self.backend).algorithms
        assert set(ALGORITHMS) <= set(algorithms)

    # ----------------------------------------------------------- learning
    @pytest.mark.parametrize("algorithm", ALGORITHMS)
    def test_training_improves_the_return(self, trained, algorithm):
        result = trained[algorithm].result
        assert result.backend == self.backend and result.algorithm == algorithm
        summary = summarize_returns(result.returns, self.window)
        assert summary.last - summary.first >= self.improvement_margin, (
            f"{algorithm}: the last {self.window} episodes average {summary.last:.2f}, the first {summary.first:.2f}; "
            f"expected an improvement of at least {self.improvement_margin}"
        )

    @pytest.mark.parametrize("algorithm", ALGORITHMS)
    def test_same_seed_gives_the_same_returns(self, trained, algorithm):
        again = make_trainer(self.spec(algorithm), self.backend).train()
        np.testing.assert_allclose(again.returns, trained[algorithm].result.returns, rtol=1e-6)

    # ------------------------------------------------------------ policies
    def _policies(self, run: TrainedRun) -> dict[str, Policy]:
        policies = run.trainer.policies()
        env = make_env(self.env, **self.env_kwargs)
        assert set(policies) == set(env.possible_agents)
        assert all(isinstance(policy, Policy) for policy in policies.values())
        return policies

    @pytest.mark.parametrize("algorithm", ALGORITHMS)
    def test_policies_work_in_env_step(self, trained, algorithm):
        policies = self._policies(trained[algorithm])
        returns = evaluate_policies(make_env(self.env, **self.env_kwargs), policies, episodes=2, seed=123)
        assert all(np.isfinite(returns))

    @pytest.mark.parametrize("algorithm", ALGORITHMS)
    def test_policies_work_event_driven(self, trained, algorithm):
        env = make_env(self.env, **self.env_kwargs)
        env.reset(seed=5)
        env.set_agent_policies(self._policies(trained[algorithm]))
        stats = env.run_event_driven(t_end=20.0)
        assert stats.summary()["num_events"] > 0

    @pytest.mark.parametrize("algorithm", ALGORITHMS)
    def test_save_and_load_give_the_same_returns(self, trained, algorithm, tmp_path: Path):
        run = trained[algorithm]
        path = run.trainer.save(tmp_path / algorithm)
        loaded = get_plugin_manager().backend(self.backend).load_policies(path)
        env = make_env(self.env, **self.env_kwargs)
        before = evaluate_policies(env, self._policies(run), episodes=3, seed=7)
        after = evaluate_policies(env, loaded, episodes=3, seed=7)
        np.testing.assert_allclose(after, before, rtol=1e-5)

    # --------------------------------------------------------- bad input
    def test_rejects_unknown_hyperparameters(self):
        spec = self.spec("ippo", hyperparams={**self.hyperparams, "no_such_setting": 1})
        with pytest.raises(ConfigError, match="no_such_setting"):
            make_trainer(spec, self.backend).train()

    def test_rejects_an_unknown_env(self):
        with pytest.raises(ConfigError, match="unknown environment"):
            make_trainer(self.spec("ippo", env="no_such_env", env_kwargs={}), self.backend).train()

    def test_loading_a_missing_checkpoint_is_an_error(self, tmp_path: Path):
        with pytest.raises(CheckpointError):
            get_plugin_manager().backend(self.backend).load_policies(tmp_path / "missing")
