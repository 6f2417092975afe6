"""heron-backend-manual: HERON's default training backend, in numpy only.

IPPO trains one actor-critic per agent; MAPPO one per kind of agent (or, with
``policy_sharing="all"``, one for every agent: kinds keep their own input and
output layers around shared hidden layers), with a centralized critic that sees
the env's full state while each actor acts on its own observation mode.
Training is REINFORCE with a learned baseline over batches of env copies
stepped in lock-step. Trained policies are plain
:class:`~heron.portable.mlp.MLPPolicy` objects saved in heron-core's portable
checkpoint format.

Example::

    from heron.training import ExperimentSpec, make_trainer
    trainer = make_trainer(ExperimentSpec(algorithm="mappo", seed=1), backend="manual")
    result = trainer.train()
    trainer.save("runs/mappo")
"""

from __future__ import annotations

from heron.backends.manual.config import ManualConfig
from heron.backends.manual.trainer import ManualTrainer

__all__ = ["ManualConfig", "ManualTrainer"]
