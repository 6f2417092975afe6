"""The ``heron`` entry point of heron-backend-manual: registers the ``manual`` backend."""

from __future__ import annotations

from heron.backends.manual.trainer import BACKEND_NAME, ManualTrainer
from heron.portable.checkpoint import load_policies
from heron.training.backends import BackendSpec
from heron.training.experiment import ALGORITHMS
from heron.training.hookspecs import hookimpl

__all__ = ["heron_backends"]


@hookimpl
def heron_backends() -> list[BackendSpec]:
    """The ``manual`` backend: IPPO and MAPPO (as :mod:`heron.training.algorithms` defines them) with numpy
    REINFORCE and a learned baseline."""
    return [
        BackendSpec(
            name=BACKEND_NAME,
            algorithms=ALGORITHMS,
            make_trainer=ManualTrainer,
            load_policies=load_policies,
            description="numpy REINFORCE with a learned baseline (no framework); the default backend",
        )
    ]
