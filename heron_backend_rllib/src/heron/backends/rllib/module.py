"""HERON's actor-critic RLModule for PPO: an optional centralized critic and value normalisation.

The actor reads only the agent's own observation. The critic reads

* the same observation (IPPO, or a plain ``Box`` observation space), or
* the observation, the env's global state and a one-hot of the agent's index when the
  observation is the ``Dict`` that :class:`~heron.adaptors.rllib.RLlibBasedHeronEnv` produces with
  ``global_state=True``: the MAPPO paper's agent-specific global state. The index counts the agents
  that share the module (its ``agent_groups`` group, e.g. one agent kind), so the one-hot has one entry
  per agent of the module. Only the learner builds
  the critic; env runners and deployed policies carry the actor alone.

Normalisation lives in the module, as running statistics in buffers, so it travels with the weights to
env runners, into checkpoints, to :class:`~heron.adaptors.rllib_module_bridge.RLlibModuleBridge` and to the
numpy export, and works the same with any number of env runners:

* ``obs_normalization``: observations (and the global state) are standardised by their running mean
  and standard deviation, and clipped to ``±obs_clip`` when it is set (the portable export needs it
  unset). The learner folds each train batch into the statistics *after* its gradient updates, so a
  batch is always trained with the statistics it was sampled with.
* ``value_normalization`` (the MAPPO paper's ValueNorm): the critic predicts returns standardised by
  running statistics of the value targets; :meth:`compute_values` returns them de-normalised, so
  RLlib's GAE connector sees ordinary values, and
  :class:`~heron.backends.rllib.learner.HeronPPOTorchLearner` fits normalised targets.

Model config keys (``DEFAULT_MODEL_CONFIG``): ``hidden_sizes``, ``activation`` (``"tanh"`` or
``"relu"``), ``free_log_std`` (a state-independent log standard deviation for ``Box`` actions),
``initial_log_std``, ``obs_normalization``, ``obs_clip``, ``value_normalization``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from ray.rllib.core.columns import Columns
from ray.rllib.core.models.catalog import Catalog
from ray.rllib.core.rl_module.apis import InferenceOnlyAPI, ValueFunctionAPI
from ray.rllib.core.rl_module.torch import TorchRLModule
from torch import nn

from heron.adaptors.rllib import AGENT_INDEX_KEY, OBS_KEY, STATE_KEY
from heron.core.errors import ConfigError
from heron.utils.validation import check_number

__all__ = ["DEFAULT_MODEL_CONFIG", "HeronPPOTorchRLModule"]

DEFAULT_MODEL_CONFIG: dict[str, Any] = {
    "hidden_sizes": (64, 64),
    "activation": "tanh",
    "free_log_std": True,
    "initial_log_std": -1.0,
    "obs_normalization": True,
    "obs_clip": None,
    "value_normalization": True,
}

_ACTIVATIONS: dict[str, type[nn.Module]] = {"tanh": nn.Tanh, "relu": nn.ReLU}


def _mlp(in_dim: int, hidden_sizes: Sequence[int], out_dim: int, activation: str, out_gain: float) -> nn.Sequential:
    """Linear layers with ``activation`` between them, orthogonally initialised (the output layer with ``out_gain``)."""
    sizes = [in_dim, *hidden_sizes, out_dim]
    layers: list[nn.Module] = []
    for index, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
        linear = nn.Linear(fan_in, fan_out)
        last = index == len(sizes) - 2
        nn.init.orthogonal_(linear.weight, gain=out_gain if last else float(np.sqrt(2.0)))
        nn.init.zeros_(linear.bias)
        layers.append(linear)
        if not last:
            layers.append(_ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


class _RunningMeanStd(nn.Module):
    """Exact running mean and variance of a stream of vectors (batches merged with Chan's formula).

    The statistics are float32 buffers (RLlib moves module states as float32), so they travel unchanged
    with the module's weights to env runners and into checkpoints; updates are computed in float64.
    Before the first update the mean is 0 and the variance 1.
    """

    def __init__(self, shape: tuple[int, ...], epsilon: float = 1e-8) -> None:
        super().__init__()
        self.epsilon = epsilon
        self.register_buffer("count", torch.zeros(()))
        self.register_buffer("mean", torch.zeros(shape))
        self.register_buffer("var", torch.ones(shape))

    @torch.no_grad()
    def update(self, values: torch.Tensor) -> None:
        """Fold a batch (leading axis) into the statistics."""
        values = values.detach().to(torch.float64).reshape(-1, *self.mean.shape)
        n = values.shape[0]
        if n == 0:
            return
        count, mean, var = self.count.double(), self.mean.double(), self.var.double()
        batch_mean = values.mean(dim=0)
        batch_var = values.var(dim=0, unbiased=False)
        total = count + n
        delta = batch_mean - mean
        m2 = var * count + batch_var * n + delta**2 * count * n / total
        self.mean.copy_(mean + delta * n / total)
        self.var.copy_(m2 / total)
        self.count.copy_(total)

    def std(self) -> torch.Tensor:
        return torch.sqrt(self.var.double() + self.epsilon)

    def normalize(self, values: torch.Tensor, clip: float | None = None) -> torch.Tensor:
        out = (values.double() - self.mean.double()) / self.std()
        if clip is not None:
            out = out.clamp(-clip, clip)
        return out.to(values.dtype)

    def denormalize(self, values: torch.Tensor) -> torch.Tensor:
        return (values.double() * self.std() + self.mean.double()).to(values.dtype)


def check_model_config(model_config: Mapping[str, Any] | None) -> dict[str, Any]:
    """``model_config`` with the defaults filled in, checked (see the module docs for the keys).

    Raises:
        ConfigError: an unknown key or a bad value, naming it.
    """
    given = dict(model_config or {})
    if given.pop("vf_share_layers", False):  # PPO adds vf_share_layers=False to every model config
        raise ConfigError("HeronPPOTorchRLModule keeps actor and critic apart: vf_share_layers=True is not supported")
    unknown = sorted(set(given) - set(DEFAULT_MODEL_CONFIG))
    if unknown:
        raise ConfigError(
            f"HeronPPOTorchRLModule: unknown model_config key(s) {unknown}; "
            f"allowed keys are {sorted(DEFAULT_MODEL_CONFIG)}"
        )
    config = {**DEFAULT_MODEL_CONFIG, **given}
    if not isinstance(config["activation"], str) or config["activation"] not in _ACTIVATIONS:
        raise ConfigError(
            f"model_config['activation'] must be one of {sorted(_ACTIVATIONS)}, got {config['activation']!r}"
        )
    sizes = config["hidden_sizes"]
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
        raise ConfigError(f"model_config['hidden_sizes'] must be a list of positive integers, got {sizes!r}")
    config["hidden_sizes"] = tuple(
        check_number(n, "model_config['hidden_sizes'] entry", minimum=1, integer=True) for n in sizes
    )
    if config["obs_clip"] is not None:
        config["obs_clip"] = check_number(config["obs_clip"], "model_config['obs_clip']", minimum=0,
                                          exclusive_minimum=True)
    config["initial_log_std"] = check_number(config["initial_log_std"], "model_config['initial_log_std']")
    return config


class HeronPPOTorchRLModule(TorchRLModule, ValueFunctionAPI, InferenceOnlyAPI):
    """Actor on the agent's observation, critic on its observation or on the global state (see module docs)."""

    def setup(self) -> None:
        config = check_model_config(self.model_config)
        space = self.observation_space
        self.centralized = isinstance(space, gym.spaces.Dict)
        if self.centralized:
            missing = {OBS_KEY, STATE_KEY, AGENT_INDEX_KEY} - set(space.spaces)
            if missing:
                raise ConfigError(
                    f"HeronPPOTorchRLModule: a Dict observation needs the keys {OBS_KEY!r}, {STATE_KEY!r} and "
                    f"{AGENT_INDEX_KEY!r} (RLlibBasedHeronEnv with global_state=True); {sorted(missing)} missing"
                )
            actor_space = space[OBS_KEY]
            self.num_agents = int(space[AGENT_INDEX_KEY].n)
            state_dim = _flat_dim(space[STATE_KEY])
        else:
            actor_space, self.num_agents, state_dim = space, 0, 0
        obs_dim = _flat_dim(actor_space)
        self.obs_clip = config["obs_clip"]
        self.obs_norm = _RunningMeanStd((obs_dim,)) if config["obs_normalization"] else None
        self.state_norm = _RunningMeanStd((state_dim,)) if config["obs_normalization"] and self.centralized else None
        self.action_dist_cls = Catalog(actor_space, self.action_space, {}).get_action_dist_cls(framework="torch")
        dist_dim = int(self.action_dist_cls.required_input_dim(self.action_space))
        hidden, activation = config["hidden_sizes"], config["activation"]
        self.free_log_std = bool(config["free_log_std"]) and isinstance(self.action_space, gym.spaces.Box)
        actor_out = dist_dim // 2 if self.free_log_std else dist_dim
        self.actor = _mlp(obs_dim, hidden, actor_out, activation, out_gain=0.01)
        if self.free_log_std:
            self.log_std = nn.Parameter(torch.full((actor_out,), config["initial_log_std"]))
        self.critic = _mlp(obs_dim + state_dim + self.num_agents, hidden, 1, activation, out_gain=1.0)
        self.value_norm = _RunningMeanStd(()) if config["value_normalization"] else None

    # ------------------------------------------------------------ inputs
    def _normalized(self, norm: _RunningMeanStd | None, values: torch.Tensor) -> torch.Tensor:
        return values if norm is None else norm.normalize(values, self.obs_clip)

    def actor_input(self, batch: Mapping[str, Any]) -> torch.Tensor:
        """The actor's input: the agent's own observation vector, normalised."""
        obs = batch[Columns.OBS]
        return self._normalized(self.obs_norm, obs[OBS_KEY] if self.centralized else obs)

    def critic_input(self, batch: Mapping[str, Any]) -> torch.Tensor:
        """The critic's input: the normalised observation, then the global state and the agent one-hot."""
        if not self.centralized:
            return self.actor_input(batch)
        obs = batch[Columns.OBS]
        one_hot = nn.functional.one_hot(obs[AGENT_INDEX_KEY].long(), self.num_agents).to(obs[OBS_KEY].dtype)
        state = self._normalized(self.state_norm, obs[STATE_KEY])
        return torch.cat([self.actor_input(batch), state, one_hot], dim=-1)

    @torch.no_grad()
    def update_observation_stats(self, batch: Mapping[str, Any]) -> None:
        """Fold the observations of a train batch into the normalisation statistics."""
        obs = batch[Columns.OBS]
        if self.obs_norm is not None:
            self.obs_norm.update(obs[OBS_KEY] if self.centralized else obs)
        if self.state_norm is not None:
            self.state_norm.update(obs[STATE_KEY])

    # ------------------------------------------------------------ actor
    def action_dist_inputs(self, actor_input: torch.Tensor) -> torch.Tensor:
        """Distribution inputs from the (normalised) actor input; for a ``Box``: means then log-stds."""
        out = self.actor(actor_input)
        if self.free_log_std:
            out = torch.cat([out, self.log_std.expand_as(out)], dim=-1)
        return out

    def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {Columns.ACTION_DIST_INPUTS: self.action_dist_inputs(self.actor_input(batch))}

    # ------------------------------------------------------------ critic
    def normalized_values(self, batch: Mapping[str, Any]) -> torch.Tensor:
        """The critic's raw output (normalised values when value normalisation is on)."""
        return self.critic(self.critic_input(batch)).squeeze(-1)

    def compute_values(self, batch: dict[str, Any], embeddings: Any = None) -> torch.Tensor:
        """Value estimates in return units (de-normalised)."""
        values = self.normalized_values(batch)
        return self.value_norm.denormalize(values) if self.value_norm is not None else values

    def get_non_inference_attributes(self) -> list[str]:
        return ["critic", "value_norm", "state_norm"]


def _flat_dim(space: gym.Space) -> int:
    if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
        raise ConfigError(f"HeronPPOTorchRLModule needs 1-D Box observations, got {space}")
    return int(space.shape[0])
