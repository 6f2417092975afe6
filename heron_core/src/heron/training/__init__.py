"""Training with any installed backend, and the plugins that provide backends and environments.

Example::

    from heron.training import ExperimentSpec, make_trainer
    trainer = make_trainer(ExperimentSpec(env="thermostat", algorithm="mappo", seed=1), backend="manual")
    result = trainer.train()
    policies = trainer.policies()          # {agent_id: Policy}

A plugin is a module named by an entry point in the ``heron`` group whose
functions are marked with :data:`hookimpl` (see :mod:`heron.training.hookspecs`).
"""

from heron.training.algorithms import (
    ALGORITHM_DEFINITIONS,
    SHARED_GROUP,
    Algorithm,
    Critic,
    PolicySharing,
    agent_kinds,
    algorithm_definition,
    resolve_sharing,
    sharing_groups,
)
from heron.training.backends import BackendSpec
from heron.training.experiment import (
    ALGORITHMS,
    SUMMARY_WINDOW,
    EpisodeRecord,
    ExperimentSpec,
    ResumableTrainer,
    ReturnSummary,
    StopCriteria,
    Trainer,
    TrainingResult,
    make_trainer,
    summarize_returns,
)
from heron.training.hookspecs import hookimpl
from heron.training.registry import EnvSpec, env_specs, make_env, make_env_config, reference_return, register_env

__all__ = [
    "ALGORITHMS",
    "ALGORITHM_DEFINITIONS",
    "SHARED_GROUP",
    "SUMMARY_WINDOW",
    "Algorithm",
    "BackendSpec",
    "Critic",
    "EnvSpec",
    "EpisodeRecord",
    "ExperimentSpec",
    "PolicySharing",
    "ResumableTrainer",
    "ReturnSummary",
    "StopCriteria",
    "Trainer",
    "TrainingResult",
    "agent_kinds",
    "algorithm_definition",
    "env_specs",
    "hookimpl",
    "make_env",
    "make_env_config",
    "make_trainer",
    "reference_return",
    "register_env",
    "resolve_sharing",
    "sharing_groups",
    "summarize_returns",
]
