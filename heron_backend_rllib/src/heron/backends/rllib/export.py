"""Export trained RLlib policies to HERON's portable numpy checkpoint (:mod:`heron.portable.checkpoint`).

Example::

    from heron.backends.rllib.export import export_policies
    export_policies(algo, "deploy/thermostat")              # or export_bridges(policies_from_checkpoint(path), ...)

    # on the device, with heron-core only (no Ray, no PyTorch):
    from heron.portable.checkpoint import load_policies
    policies = load_policies("deploy/thermostat")           # {agent_id: MLPPolicy}

The exported network is the actor of each module, with everything RLlib does around it folded in: the
observation normalisation (HERON's in-module statistics and an RLlib ``MeanStdFilter``, composed into
one affine map), the deterministic output (a Gaussian's mean rows, a categorical's argmax) and the
action rescaling (``normalize_actions``) or clipping. It gives the same actions as
:class:`~heron.adaptors.rllib_module_bridge.RLlibModuleBridge` up to float rounding.

Supported modules: :class:`~heron.backends.rllib.module.HeronPPOTorchRLModule` and RLlib's default PPO
module, with dense layers and one hidden activation (tanh or relu). Observation clipping (RLlib's
``MeanStdFilter`` always clips in Ray 2.60) cannot be expressed in the format: such a policy is refused
with the remedy, never exported approximately.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from heron.adaptors.rllib_module_bridge import ObservationFilter, RLlibModuleBridge, policies_from_algorithm
from heron.backends.rllib.module import HeronPPOTorchRLModule
from heron.core.errors import BackendError
from heron.portable.checkpoint import PolicyCheckpoint, save_checkpoint
from heron.portable.mlp import ActionHead, MLPNetwork

__all__ = ["export_bridges", "export_policies"]

_ACTIVATIONS: dict[type[nn.Module], str] = {nn.Tanh: "tanh", nn.ReLU: "relu"}


def _actor_parts(module: Any) -> list[nn.Module]:
    if isinstance(module, HeronPPOTorchRLModule):
        return [module.actor]
    encoder = getattr(getattr(module, "encoder", None), "actor_encoder", None)
    if encoder is not None and isinstance(getattr(module, "pi", None), nn.Module):
        return [encoder, module.pi]
    raise BackendError(
        f"cannot export a {type(module).__name__}: supported are HeronPPOTorchRLModule and RLlib's default PPO module"
    )


def _dense_layers(module: Any) -> tuple[list[tuple[np.ndarray, np.ndarray]], str]:
    """The actor's ``(weight, bias)`` layers in order and its hidden activation."""
    leaves = [m for part in _actor_parts(module) for m in part.modules() if not list(m.children())]
    leaves = [m for m in leaves if not isinstance(m, nn.Identity)]
    layers: list[tuple[np.ndarray, np.ndarray]] = []
    activations: set[str] = set()
    expect_linear = True
    for leaf in leaves:
        if isinstance(leaf, nn.Linear) and expect_linear:
            bias = leaf.bias if leaf.bias is not None else torch.zeros(leaf.out_features)
            layers.append((leaf.weight.detach().double().numpy().copy(), bias.detach().double().numpy().copy()))
            expect_linear = False
        elif type(leaf) in _ACTIVATIONS and not expect_linear:
            activations.add(_ACTIVATIONS[type(leaf)])
            expect_linear = True
        else:
            raise BackendError(
                f"cannot export {type(module).__name__}: its actor has a {type(leaf).__name__} where the format needs "
                "dense layers separated by one activation (tanh or relu)"
            )
    if expect_linear or len(activations) > 1 or not layers:
        raise BackendError(
            f"cannot export {type(module).__name__}: the actor must end in a linear layer and use one hidden "
            f"activation, found activations {sorted(activations)}"
        )
    return layers, activations.pop() if activations else "identity"


def _output_rows(space: gym.Space, out_size: int, head: ActionHead) -> np.ndarray:
    """Rows of the last layer that the format keeps: Gaussian means and categorical logits."""
    if out_size == head.output_size:
        return np.arange(out_size)  # state-independent log-std: the layer outputs means (and logits) only
    if out_size == head.output_size + head.dim_c:  # [means, log-stds, logits...] (a Dict space sorts "c" first)
        return np.concatenate([np.arange(head.dim_c), np.arange(2 * head.dim_c, out_size)])
    raise BackendError(f"the actor has {out_size} outputs, which does not fit action space {space}")


def _normalization(
    module: Any, obs_filter: ObservationFilter | None, obs_dim: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """``(mean, std)`` of the composed observation filter and in-module normalisation, or None."""
    mean, std = np.zeros(obs_dim), np.ones(obs_dim)
    used = False
    if obs_filter is not None:
        if obs_filter.clip is not None:
            raise BackendError(
                f"the MeanStdFilter clips observations at ±{obs_filter.clip}, which the portable format cannot "
                "express (and Ray 2.60's filter cannot be built without clipping); HeronPPOTorchRLModule's "
                "in-module normalisation (mappo_config, ippo_config) exports, or use RLlibModuleBridge"
            )
        mean, std, used = obs_filter.mean.astype(np.float64), obs_filter.scale.astype(np.float64), True
    norm = getattr(module, "obs_norm", None) if isinstance(module, HeronPPOTorchRLModule) else None
    if norm is not None:
        if module.obs_clip is not None:
            raise BackendError(
                f"the module clips normalised observations at ±{module.obs_clip}, which the portable format "
                "cannot express; train with model_config obs_clip=None to export"
            )
        inner_mean = norm.mean.detach().double().numpy()
        inner_std = norm.std().detach().double().numpy()
        # ((x - m1) / s1 - m2) / s2 == (x - (m1 + m2 * s1)) / (s1 * s2)
        mean, std, used = mean + inner_mean * std, std * inner_std, True
    return (mean, std) if used else None


def _network_of(bridge: RLlibModuleBridge) -> MLPNetwork:
    """The portable network equivalent to ``bridge``."""
    layers, activation = _dense_layers(bridge.module)
    post = bridge.postprocess
    head = ActionHead.from_action(bridge.action_spec, scaling="normalized" if post.normalize_actions else "none")
    weight, bias = layers[-1]
    rows = _output_rows(bridge.action_space, weight.shape[0], head)
    layers[-1] = (weight[rows], bias[rows])
    normalization = _normalization(bridge.module, bridge.obs_filter, bridge.obs_dim)
    return MLPNetwork(
        weights=tuple(w for w, _ in layers),
        biases=tuple(b for _, b in layers),
        hidden_activation=activation,
        observation_mode=bridge.observation_mode,
        obs_dim=bridge.obs_dim,
        head=head,
        obs_mean=None if normalization is None else normalization[0],
        obs_std=None if normalization is None else normalization[1],
    )


def export_bridges(
    bridges: Mapping[str, RLlibModuleBridge], path: str | Path, info: Mapping[str, Any] | None = None
) -> Path:
    """Write ``bridges`` as a portable checkpoint at ``path``; agents sharing a module share a network.

    Agents of one module get one network unless their observation filters differ (RLlib's filter is per
    agent); their networks are then named ``<module>__<agent>``.
    """
    networks: dict[str, MLPNetwork] = {}
    agents: dict[str, str] = {}
    by_module: dict[int, list[str]] = {}
    for aid, bridge in bridges.items():
        by_module.setdefault(id(bridge.module), []).append(aid)
    for aids in by_module.values():
        first = bridges[aids[0]]
        shared = all(_same_filter(bridges[aid].obs_filter, first.obs_filter) for aid in aids)
        for aid in aids:
            name = first.module_id if shared else f"{first.module_id}__{aid}"
            if name not in networks:
                networks[name] = _network_of(bridges[aid])
            agents[aid] = name
    return save_checkpoint(path, PolicyCheckpoint(networks, agents, {"backend": "rllib", **dict(info or {})}))


def _same_filter(a: ObservationFilter | None, b: ObservationFilter | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.clip == b.clip and np.array_equal(a.mean, b.mean) and np.array_equal(a.scale, b.scale)


def export_policies(algo: Any, path: str | Path, info: Mapping[str, Any] | None = None) -> Path:
    """Export the algorithm's current policies for every agent to ``path`` (see module docs)."""
    return export_bridges(policies_from_algorithm(algo), path, info)
