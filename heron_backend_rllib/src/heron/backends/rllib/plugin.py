"""The ``heron`` entry point of heron-backend-rllib: the ``rllib`` backend.

Importing this module is cheap: Ray and PyTorch are imported only when a trainer is made or
policies are loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from heron.training.backends import BackendSpec
from heron.training.hookspecs import hookimpl

if TYPE_CHECKING:
    from collections.abc import Mapping

    from heron.core.policies import Policy
    from heron.training.experiment import ExperimentSpec, Trainer

__all__ = ["heron_backends"]


def make_trainer(spec: ExperimentSpec) -> Trainer:
    """An :class:`~heron.backends.rllib.trainer.RLlibTrainer` for ``spec``."""
    from heron.backends.rllib.trainer import RLlibTrainer

    return RLlibTrainer(spec)


def load_policies(path: Path) -> Mapping[str, Policy]:
    """The policies an RLlib trainer saved in ``path``."""
    from heron.backends.rllib.trainer import load_policies as load

    return load(path)


@hookimpl
def heron_backends() -> list[BackendSpec]:
    return [
        BackendSpec(
            "rllib",
            ("ippo", "mappo"),
            make_trainer,
            load_policies,
            "Ray RLlib PPO (new API stack): IPPO, MAPPO with a centralized critic",
        )
    ]
