"""HERON's Ray RLlib backend.

* :func:`mappo_config`, :func:`ippo_config`: ready ``PPOConfig`` s (see :mod:`heron.backends.rllib.configs`);
* :class:`HeronPPOTorchRLModule`: the actor-critic module with a centralized critic option;
* :func:`export_policies`: the portable numpy checkpoint of the trained policies (a trained RLModule as a
  HERON policy is :class:`heron.adaptors.rllib_module_bridge.RLlibModuleBridge`);
* :class:`RLlibTrainer`: the backend behind ``make_trainer(spec, "rllib")`` and ``heron train --backend rllib``;
  :func:`load_policies` (data only) and :func:`load_pickled` (RLlib's pickles: runs code) read what it saves;
* :func:`ensure_ray`: start Ray or connect to a cluster (``RAY_ADDRESS``), with an error instead of a hang.

Names are imported on first access, so importing the package (as the plugin system does) does not
import Ray or PyTorch.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "HeronPPOTorchLearner",
    "HeronPPOTorchRLModule",
    "RLlibTrainer",
    "ensure_ray",
    "export_policies",
    "ippo_config",
    "load_pickled",
    "load_policies",
    "mappo_config",
]

_WHERE = {
    "HeronPPOTorchLearner": "learner",
    "HeronPPOTorchRLModule": "module",
    "RLlibTrainer": "trainer",
    "ensure_ray": "cluster",
    "export_policies": "export",
    "ippo_config": "configs",
    "load_pickled": "checkpoint",
    "load_policies": "checkpoint",
    "mappo_config": "configs",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
