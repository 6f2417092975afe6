"""Numpy-only inference of multi-layer-perceptron policies (the portable policy format).

Every backend that exports policies to :mod:`heron.portable.checkpoint` describes
them with one :class:`MLPNetwork`, and a deployment needs only heron-core
(numpy) to run them as :class:`MLPPolicy` objects. The format is:

* **Input** ``x = [(obs - obs_mean) / obs_std, one_hot(agent)]``: ``obs`` is the
  agent's flat observation vector in ``observation_mode`` (``obs_dim`` values);
  the normalisation is optional (``obs_mean``/``obs_std`` both set or both
  ``None``); the one-hot part is present when ``agent_ids`` is set (a policy
  shared by several agents that tells them apart): entry ``i`` is 1 for
  ``agent_ids[i]``.
* **Network**: a list of dense layers ``y = W @ x + b`` with ``W`` of shape
  ``(out, in)``; every layer but the last is followed by
  ``hidden_activation`` (``"tanh"``, ``"relu"`` or ``"identity"``), the last
  layer is linear.
* **Output** ``[continuous (dim_c values), logits of discrete head 1 (ncats[0]), ...]``:
  the continuous part goes through ``output_activation`` (``"identity"`` or
  ``"tanh"``) and then ``scaling``: ``"normalized"`` clips it to ``[-1, 1]``
  and maps it linearly onto ``[low, high]``; ``"none"`` takes it in action
  units (clipped to ``[low, high]``). Each discrete head acts by argmax of its logits.

A Gaussian policy's continuous output is its mean: an exporter drops the
log-std rows of the last layer (RLlib's ``[mean, log_std]`` head keeps only the
first ``dim_c`` rows) and so gets the deterministic policy.

Example::

    network = MLPNetwork(
        weights=(w0, w1), biases=(b0, b1), hidden_activation="tanh",
        observation_mode="local", obs_dim=1,
        head=ActionHead(dim_c=1, low=np.array([-1.0]), high=np.array([1.0]), output_activation="tanh"),
    )
    policy = MLPPolicy(network, agent_id="room_a")
    action = policy.forward(env.observe("room_a"))
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from heron.core.action import Action
from heron.core.errors import ConfigError, UnknownAgentError
from heron.core.observation import check_observation_mode
from heron.core.policies import Policy, obs_to_vector, vector_to_action
from heron.utils.validation import check_number

__all__ = [
    "ACTIVATIONS",
    "OUTPUT_ACTIVATIONS",
    "SCALINGS",
    "ActionHead",
    "MLPNetwork",
    "MLPPolicy",
]

ACTIVATIONS: Mapping[str, Callable[[np.ndarray], np.ndarray]] = {
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(x, 0.0),
    "identity": lambda x: x,
}
"""Hidden-layer activations by name."""

OUTPUT_ACTIVATIONS: tuple[str, ...] = ("identity", "tanh")
SCALINGS: tuple[str, ...] = ("normalized", "none")


def _choice(value: str, allowed: Sequence[str], what: str) -> str:
    if value not in allowed:
        raise ConfigError(f"unknown {what} {value!r}; expected one of {list(allowed)}")
    return value


def _float_array(value: Any, what: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{what} is not numeric: {exc}") from exc
    if shape is not None and array.shape != shape:
        raise ConfigError(f"{what} has shape {array.shape}, expected {shape}")
    if not np.isfinite(array).all():
        raise ConfigError(f"{what} contains NaN or infinity")
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class ActionHead:
    """How the network's output becomes an action (see the module docs).

    Attributes:
        dim_c: number of continuous action components.
        low, high: bounds of the continuous components (length ``dim_c``).
        ncats: categories of each discrete head.
        output_activation: applied to the continuous outputs (``"identity"`` or ``"tanh"``).
        scaling: ``"normalized"`` (outputs in ``[-1, 1]`` map onto ``[low, high]``) or
            ``"none"`` (outputs are in action units).
    """

    dim_c: int = 0
    low: np.ndarray = field(default_factory=lambda: np.zeros(0))
    high: np.ndarray = field(default_factory=lambda: np.zeros(0))
    ncats: tuple[int, ...] = ()
    output_activation: str = "identity"
    scaling: str = "normalized"

    def __post_init__(self) -> None:
        object.__setattr__(self, "dim_c", check_number(self.dim_c, "action head dim_c", minimum=0, integer=True))
        object.__setattr__(self, "low", _float_array(self.low, "action head low", (self.dim_c,)))
        object.__setattr__(self, "high", _float_array(self.high, "action head high", (self.dim_c,)))
        if np.any(self.low >= self.high):
            raise ConfigError(f"action head needs low < high, got low={self.low}, high={self.high}")
        if isinstance(self.ncats, str) or not isinstance(self.ncats, (Sequence, np.ndarray)):
            raise ConfigError(f"action head ncats must be a list of integers >= 1, got {self.ncats!r}")
        ncats = tuple(check_number(n, "action head ncats entry", minimum=1, integer=True) for n in self.ncats)
        object.__setattr__(self, "ncats", ncats)
        if self.dim_c + len(ncats) == 0:
            raise ConfigError("action head has neither continuous components nor discrete heads")
        _choice(self.output_activation, OUTPUT_ACTIVATIONS, "output_activation")
        _choice(self.scaling, SCALINGS, "action scaling")

    @classmethod
    def from_action(
        cls, action: Action, output_activation: str = "identity", scaling: str = "normalized"
    ) -> ActionHead:
        """The head that produces actions of ``action``'s specification."""
        return cls(action.dim_c, action.range[0], action.range[1], action.ncats, output_activation, scaling)

    @property
    def output_size(self) -> int:
        """Number of network outputs: ``dim_c`` plus every head's categories."""
        return self.dim_c + sum(self.ncats)

    def to_action(self, owner: str = "action") -> Action:
        """An :class:`Action` specification matching this head."""
        low_high = (self.low, self.high) if self.dim_c else None
        return Action(owner).set_specs(dim_c=self.dim_c, ncats=list(self.ncats), range=low_high)

    def continuous(self, outputs: np.ndarray) -> np.ndarray:
        """The continuous part of ``outputs`` (rows = samples) in ``[-1, 1]`` or action units, before scaling."""
        raw = outputs[:, : self.dim_c]
        return np.tanh(raw) if self.output_activation == "tanh" else raw

    def scale(self, values: np.ndarray) -> np.ndarray:
        """Continuous values (after the output activation) in action units, clipped to ``[low, high]``."""
        if self.scaling == "normalized":  # np.minimum/np.maximum: several times cheaper than np.clip on small arrays
            values = self.low + (np.minimum(np.maximum(values, -1.0), 1.0) + 1.0) * 0.5 * (self.high - self.low)
        return np.minimum(np.maximum(values, self.low), self.high)

    def logit_slices(self) -> list[slice]:
        """Where each discrete head's logits are in the output vector."""
        bounds = np.cumsum([self.dim_c, *self.ncats]).tolist()
        return [slice(start, stop) for start, stop in itertools.pairwise(bounds)]

    def logits(self, outputs: np.ndarray) -> list[np.ndarray]:
        """Each discrete head's logits (rows = samples)."""
        return [outputs[:, where] for where in self.logit_slices()]

    def decode(self, outputs: np.ndarray) -> np.ndarray:
        """Deterministic flat actions (rows = samples): scaled continuous values, then argmax indices."""
        parts = [self.scale(self.continuous(outputs))]
        parts += [np.argmax(logits, axis=1)[:, None].astype(np.float64) for logits in self.logits(outputs)]
        return np.concatenate(parts, axis=1)

    def to_json(self) -> dict[str, Any]:
        return {
            "dim_c": self.dim_c,
            "low": self.low.tolist(),
            "high": self.high.tolist(),
            "ncats": list(self.ncats),
            "output_activation": self.output_activation,
            "scaling": self.scaling,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ActionHead:
        keys = {"dim_c", "low", "high", "ncats", "output_activation", "scaling"}
        if set(data) != keys:
            raise ConfigError(f"action head keys are {sorted(data)}, expected {sorted(keys)}")
        return cls(**data)


@dataclass(frozen=True, eq=False)
class MLPNetwork:
    """A policy network in the portable format (see the module docs).

    Attributes:
        weights: ``(out, in)`` matrices, first layer first.
        biases: ``(out,)`` vectors.
        hidden_activation: activation after every layer but the last.
        observation_mode: the observation mode the network reads.
        obs_dim: length of the observation vector.
        head: turns outputs into actions.
        obs_mean, obs_std: observation normalisation (both or neither).
        agent_ids: the agents of the one-hot input, in order (``None``: no one-hot input).
    """

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    hidden_activation: str
    observation_mode: str
    obs_dim: int
    head: ActionHead
    obs_mean: np.ndarray | None = None
    obs_std: np.ndarray | None = None
    agent_ids: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        _choice(self.hidden_activation, tuple(ACTIVATIONS), "hidden_activation")
        check_observation_mode(self.observation_mode, "network")
        object.__setattr__(self, "obs_dim", check_number(self.obs_dim, "obs_dim", minimum=1, integer=True))
        if not isinstance(self.head, ActionHead):
            raise ConfigError(f"head must be an ActionHead, got {self.head!r}")
        if self.agent_ids is not None:
            ids = tuple(self.agent_ids)
            if not ids or len(set(ids)) != len(ids) or not all(isinstance(a, str) for a in ids):
                raise ConfigError(f"agent_ids must be distinct agent id strings, got {list(ids)}")
            object.__setattr__(self, "agent_ids", ids)
        if (self.obs_mean is None) != (self.obs_std is None):
            raise ConfigError("obs_mean and obs_std must both be given or both be None")
        if self.obs_mean is not None:
            object.__setattr__(self, "obs_mean", _float_array(self.obs_mean, "obs_mean", (self.obs_dim,)))
            object.__setattr__(self, "obs_std", _float_array(self.obs_std, "obs_std", (self.obs_dim,)))
            if np.any(self.obs_std <= 0):
                raise ConfigError(f"obs_std must be positive, got {self.obs_std}")
        self._check_layers()

    def _check_layers(self) -> None:
        if len(self.weights) != len(self.biases) or not self.weights:
            raise ConfigError(
                f"a network needs at least one layer and as many biases as weights; "
                f"got {len(self.weights)} weights and {len(self.biases)} biases"
            )
        weights, biases = [], []
        expected_in = self.input_size
        for index, (weight, bias) in enumerate(zip(self.weights, self.biases)):
            weight = _float_array(weight, f"layer {index} weight")
            if weight.ndim != 2 or weight.shape[1] != expected_in:
                what = "the input size" if index == 0 else f"layer {index - 1}'s output size"
                raise ConfigError(
                    f"layer {index} weight has shape {weight.shape}, expected (out, {expected_in}) "
                    f"({expected_in} is {what})"
                )
            weights.append(weight)
            biases.append(_float_array(bias, f"layer {index} bias", (weight.shape[0],)))
            expected_in = weight.shape[0]
        if expected_in != self.head.output_size:
            raise ConfigError(
                f"the last layer has {expected_in} outputs, the action head needs {self.head.output_size} "
                f"(dim_c={self.head.dim_c} + ncats={list(self.head.ncats)})"
            )
        object.__setattr__(self, "weights", tuple(weights))
        object.__setattr__(self, "biases", tuple(biases))

    @property
    def input_size(self) -> int:
        """``obs_dim`` plus the one-hot length."""
        return self.obs_dim + (len(self.agent_ids) if self.agent_ids is not None else 0)

    def agent_index(self, agent_id: str) -> int | None:
        """Position of ``agent_id`` in the one-hot input (``None`` without one-hot input)."""
        if self.agent_ids is None:
            return None
        try:
            return self.agent_ids.index(agent_id)
        except ValueError:
            raise UnknownAgentError(
                f"network has no one-hot entry for agent {agent_id!r}; its agents are {list(self.agent_ids)}"
            ) from None

    def inputs(self, observations: np.ndarray, agent_indices: np.ndarray | None = None) -> np.ndarray:
        """Network inputs for observation rows (and the agents' one-hot indices when the network has them)."""
        x = np.asarray(observations, dtype=np.float64)
        if self.obs_mean is not None:
            x = (x - self.obs_mean) / self.obs_std
        if self.agent_ids is None:
            return x
        if agent_indices is None:
            raise ConfigError("this network takes the agent's one-hot id: pass agent_indices")
        one_hot = np.zeros((x.shape[0], len(self.agent_ids)))
        one_hot[np.arange(x.shape[0]), agent_indices] = 1.0
        return np.concatenate([x, one_hot], axis=1)

    def outputs(self, inputs: np.ndarray) -> np.ndarray:
        """Raw network outputs for input rows."""
        activation = ACTIVATIONS[self.hidden_activation]
        x = inputs
        last = len(self.weights) - 1
        for index, (weight, bias) in enumerate(zip(self.weights, self.biases)):
            x = x @ weight.T + bias
            if index < last:
                x = activation(x)
        return x

    def act(self, observations: np.ndarray, agent_indices: np.ndarray | None = None) -> np.ndarray:
        """Deterministic flat actions for observation rows."""
        return self.head.decode(self.outputs(self.inputs(observations, agent_indices)))


class MLPPolicy(Policy):
    """A :class:`~heron.core.policies.Policy` running an :class:`MLPNetwork` for one agent.

    Works in ``env.step`` and in event-driven runs: ``forward`` takes an
    :class:`~heron.core.observation.Observation` (or its vector) and returns an
    :class:`~heron.core.action.Action`.
    """

    def __init__(self, network: MLPNetwork, agent_id: str) -> None:
        self.network = network
        self.agent_id = agent_id
        self.observation_mode = network.observation_mode
        self.obs_dim = network.obs_dim
        self.action_spec = network.head.to_action(agent_id)
        index = network.agent_index(agent_id)
        self._indices = None if index is None else np.array([index])

    @obs_to_vector
    @vector_to_action
    def forward(self, obs_vec: np.ndarray) -> np.ndarray:
        return self.network.act(obs_vec[None, :], self._indices)[0]

    def __repr__(self) -> str:
        sizes = [self.network.input_size] + [w.shape[0] for w in self.network.weights]
        return f"MLPPolicy({self.agent_id!r}, layers={sizes}, mode={self.observation_mode!r})"
