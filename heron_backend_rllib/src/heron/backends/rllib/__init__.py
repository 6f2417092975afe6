"""HERON's Ray RLlib backend.

* :func:`mappo_config`, :func:`ippo_config`: ready ``PPOConfig`` s (see :mod:`heron.backends.rllib.configs`);
* :class:`HeronPPOTorchRLModule`: the actor-critic module with a centralized critic option;
* :func:`export_policies`: the portable numpy checkpoint of the trained policies (a trained RLModule as a
  HERON policy is :class:`heron.adaptors.rllib_module_bridge.RLlibModuleBridge`);
* :class:`RLlibTrainer`: the backend behind ``make_trainer(spec, "rllib")`` and ``heron train --backend rllib``.

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
    "export_policies",
    "ippo_config",
    "mappo_config",
]

_WHERE = {
    "HeronPPOTorchLearner": "learner",
    "HeronPPOTorchRLModule": "module",
    "RLlibTrainer": "trainer",
    "export_policies": "export",
    "ippo_config": "configs",
    "mappo_config": "configs",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
