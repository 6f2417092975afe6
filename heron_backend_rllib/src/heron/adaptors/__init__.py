"""Adaptors that expose HERON environments to other RL frameworks.

* :mod:`heron.adaptors.rllib`: :class:`~heron.adaptors.rllib.RLlibBasedHeronEnv`, a Ray RLlib
  ``MultiAgentEnv`` built from a flat HERON ``env_config``;
* :mod:`heron.adaptors.rllib_runner`: :class:`~heron.adaptors.rllib_runner.HeronEnvRunner`, an RLlib
  env runner that evaluates with HERON's event-driven simulation;
* :mod:`heron.adaptors.rllib_module_bridge`: :class:`~heron.adaptors.rllib_module_bridge.RLlibModuleBridge`,
  a trained RLModule as a HERON :class:`~heron.core.policies.Policy`.

``heron.backends.rllib`` (configs, module, learner, trainer) builds on these modules, never the reverse.

This package belongs to the ``heron-backend-rllib`` distribution. Its modules import Ray and
PyTorch, so they are imported explicitly, never from here.
"""

__all__: list[str] = []
