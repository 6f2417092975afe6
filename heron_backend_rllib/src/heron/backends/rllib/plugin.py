"""The ``heron`` entry point of heron-backend-rllib: the ``rllib`` backend.

Importing this module is cheap: Ray and PyTorch are imported only when a trainer is made or a
pickled checkpoint is loaded; the data-only loader needs neither.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from heron.backends.rllib.checkpoint import load_pickled, load_policies
from heron.training.backends import BackendSpec
from heron.training.hookspecs import hookimpl

if TYPE_CHECKING:
    from heron.training.experiment import ExperimentSpec, Trainer

__all__ = ["heron_backends"]


def make_trainer(spec: ExperimentSpec) -> Trainer:
    """An :class:`~heron.backends.rllib.trainer.RLlibTrainer` for ``spec``."""
    from heron.backends.rllib.trainer import RLlibTrainer

    return RLlibTrainer(spec)


@hookimpl
def heron_backends() -> list[BackendSpec]:
    return [
        BackendSpec(
            "rllib",
            ("ippo", "mappo"),
            make_trainer,
            load_policies,
            "Ray RLlib PPO (new API stack): IPPO, MAPPO with a centralized critic",
            load_pickled=load_pickled,
        )
    ]
