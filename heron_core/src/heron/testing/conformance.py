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

The algorithms must mean what :mod:`heron.training.algorithms` defines (with the
class's ``hyperparams``): after ``ippo`` the agents have policies of their own
(distinct objects that act differently on some observation of an episode); after
``mappo`` the agents of one :func:`~heron.training.algorithms.sharing_groups` group
give the same action for the same observation (each agent's observations of an
episode are fed to every policy of its group).

``stop={"env_steps": N}`` must stop near ``N``: the suite first trains with
``N = 1`` to learn the backend's least unit of training (one episode, or one
batch of them), then with ``N`` = 2.5 such units; the reported ``env_steps`` must
equal the last episode's, reach ``N`` and stay below ``N`` plus one unit or one
episode, whichever is longer (the episode or batch in progress may be finished,
nothing more). Each algorithm trains twice more for it, briefly.
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
from heron.core.observation import Observation
from heron.core.policies import Policy
from heron.evaluation.episodes import evaluate_policies
from heron.training import summarize_returns
from heron.training.algorithms import sharing_groups
from heron.training.experiment import ALGORITHMS, ExperimentSpec, Trainer, TrainingResult, make_trainer
from heron.training.plugins import ENTRY_POINT_GROUP, get_plugin_manager
from heron.training.registry import make_env

__all__ = ["BackendConformance"]


class TrainedRun:
    """A trainer after training, with its result."""

    def __init__(self, trainer: Trainer, result: TrainingResult) -> None:
        self.trainer = trainer
        self.result = result


def _act(policy: Policy, obs: Observation) -> np.ndarray:
    return policy.forward(obs).vector()


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

    # --------------------------------------------------- algorithm meaning
    def _episode_observations(self, policies: Mapping[str, Policy]) -> list[dict[str, Observation]]:
        """The acting agents' observations at every step of one episode played with ``policies``."""
        env = make_env(self.env, **self.env_kwargs)
        observations, _ = env.reset(seed=11)
        for policy in policies.values():
            policy.reset()
        seen = []
        while True:
            seen.append(dict(observations))
            actions = {aid: policies[aid].forward(observations[aid]) for aid in env.agents}
            observations, _, terminated, truncated, _ = env.step(actions)
            if terminated["__all__"] or truncated["__all__"]:
                return seen

    def _shared_groups(self) -> list[list[str]]:
        """The ``mappo`` groups of two or more agents (agents whose policies can read each other's observations)."""
        groups = sharing_groups(make_env(self.env, **self.env_kwargs), "mappo", self.backend).values()
        shared = [agent_ids for agent_ids in groups if len(agent_ids) > 1]
        if not shared:
            pytest.skip(f"no two agents of env {self.env!r} share a policy under mappo")
        return shared

    def test_ippo_gives_every_agent_a_policy_of_its_own(self, trained):
        policies = self._policies(trained["ippo"])
        assert len({id(policy) for policy in policies.values()}) == len(policies), (
            f"{self.backend} ippo: agents share a policy object; ippo trains one policy per agent"
        )
        seen = self._episode_observations(policies)
        for first, *others in self._shared_groups():
            views = [obs[first] for obs in seen if first in obs]
            for aid in others:
                differs = any(not np.array_equal(_act(policies[first], v), _act(policies[aid], v)) for v in views)
                assert differs, (
                    f"{self.backend} ippo: {first!r} and {aid!r} act identically on all {len(views)} observations of "
                    f"{first!r} in an episode; expected a policy per agent (heron.training.algorithms)"
                )

    def test_mappo_agents_of_one_group_act_alike(self, trained):
        policies = self._policies(trained["mappo"])
        seen = self._episode_observations(policies)
        for agent_ids in self._shared_groups():
            for step, obs in enumerate(seen):
                for owner in (aid for aid in agent_ids if aid in obs):
                    expected = _act(policies[owner], obs[owner])
                    for aid in agent_ids:
                        np.testing.assert_allclose(
                            _act(policies[aid], obs[owner]), expected, rtol=1e-6, atol=1e-6,
                            err_msg=f"{self.backend} mappo: step {step}, {owner!r}'s observation: {aid!r} acts "
                            f"differently from {owner!r}; expected one shared policy for {agent_ids}",
                        )

    # --------------------------------------------------------- stop rules
    def _train_env_steps(self, algorithm: str, env_steps: int) -> TrainingResult:
        result = make_trainer(self.spec(algorithm, stop={"env_steps": env_steps}), self.backend).train()
        steps = [record.env_steps for record in result.episodes]
        assert steps and steps[-1] == result.env_steps, (
            f"{self.backend} {algorithm}: reported env_steps={result.env_steps}, the last episode says "
            f"{steps[-1] if steps else None}"
        )
        assert all(np.diff(steps) > 0), f"{self.backend} {algorithm}: episode env_steps do not increase: {steps}"
        return result

    @pytest.mark.parametrize("algorithm", ALGORITHMS)
    def test_stops_after_env_steps(self, algorithm):
        unit = self._train_env_steps(algorithm, 1).env_steps
        target = 2 * unit + unit // 2
        result = self._train_env_steps(algorithm, target)
        slack = max(unit, make_env(self.env, **self.env_kwargs).max_steps)
        assert target <= result.env_steps < target + slack, (
            f"{self.backend} {algorithm}: stop={{'env_steps': {target}}} trained {result.env_steps} env steps; "
            f"expected at least {target} and less than {target + slack} (one episode or one batch of {unit} over)"
        )

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
