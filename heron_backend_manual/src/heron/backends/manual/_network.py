"""Trainable dense networks in numpy: forward with a cache, backward, Adam and gradient clipping.

The layout matches :class:`heron.portable.mlp.MLPNetwork` (weights ``(out, in)``,
``hidden activation`` after every layer but the last): :meth:`MLP.dense_weights`
is a kind's network in that format, so a trained actor runs with heron-core alone.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from heron.portable.mlp import ACTIVATIONS

_DERIVATIVES = {  # derivative of the activation, written in terms of its output
    "tanh": lambda y: 1.0 - y * y,
    "relu": lambda y: (y > 0.0).astype(np.float64),
    "identity": np.ones_like,
}


class _Layer:
    """A dense layer ``y = x @ W.T + E.T[agent] + b``; the agent part ``E`` exists in a first layer only."""

    def __init__(self, weight: np.ndarray, agents: int) -> None:
        features = weight.shape[1] - agents
        self.weight = weight[:, :features].copy()
        self.embedding = weight[:, features:].copy() if agents else None
        self.bias = np.zeros(weight.shape[0])

    @property
    def params(self) -> list[np.ndarray]:
        return [self.weight, self.bias] if self.embedding is None else [self.weight, self.embedding, self.bias]

    def dense_weight(self) -> np.ndarray:
        """The weight on the concatenated input ``[features, one_hot(agent)]``."""
        return self.weight if self.embedding is None else np.concatenate([self.weight, self.embedding], axis=1)


def _sum_rows(values: np.ndarray, index: np.ndarray, size: int) -> np.ndarray:
    """``out[i] = sum of values[r] where index[r] == i``, for ``size`` rows."""
    out = np.zeros((size, values.shape[1]))
    np.add.at(out, index, values)
    return out


class MLP:
    """Dense networks for several kinds of input that share their hidden layers.

    Kind ``k`` maps its input through a first layer of its own onto ``hidden[0]``, through the shared layers
    ``hidden[0] -> ... -> hidden[-1]``, and through a last layer of its own onto ``outputs[k]``; with one kind
    it is a plain dense network. Without hidden layers a kind has one layer (one kind only).

    The first layer's input is split in two, so that wide inputs cost no more than their distinct rows:
    ``features`` rows ``x`` used by the samples ``rows`` (``x[rows]``, e.g. one env state read by every
    agent of the step) and each sample's agent index (the one-hot part, an embedding column lookup). The
    result equals a dense layer on ``[x[rows], one_hot(agent)]`` (:meth:`dense_weights`).

    Args:
        inputs: ``(features, agents)`` per kind; ``agents`` is the one-hot length (0: no agent input).
        hidden: widths of the hidden layers.
        outputs: output size per kind.
        activation: hidden activation name (see :data:`heron.portable.mlp.ACTIVATIONS`).
        rng: draws the initial weights (normal, variance ``1 / fan_in``), layer by layer: the kinds' first
            layers, the shared layers, the kinds' last layers.
        output_scale: factor on the initial last-layer weights (small for an
            actor, so that its first actions are near the middle of the range).
    """

    def __init__(
        self,
        inputs: Sequence[tuple[int, int]],
        hidden: Sequence[int],
        outputs: Sequence[int],
        activation: str,
        rng: np.random.Generator,
        output_scale: float = 1.0,
    ) -> None:
        if len(inputs) != len(outputs) or not inputs:
            raise ValueError(f"one output size per kind: {len(inputs)} inputs, {len(outputs)} outputs")
        if len(inputs) > 1 and len(hidden) < 2:
            raise ValueError(f"kinds share hidden layers between their own first and last: got hidden={hidden}")
        self.activation = activation
        hidden = list(hidden)

        def layer(fan_in: int, fan_out: int, agents: int = 0, last: bool = False) -> _Layer:
            scale = (output_scale if last else 1.0) / np.sqrt(fan_in)
            return _Layer(rng.standard_normal((fan_out, fan_in)) * scale, agents)

        if not hidden:
            firsts = [layer(f + a, out, a, last=True) for (f, a), out in zip(inputs, outputs)]
            self.paths = [[first] for first in firsts]
            self.layers = firsts
            return
        firsts = [layer(f + a, hidden[0], a) for f, a in inputs]
        shared = [layer(fan_in, fan_out) for fan_in, fan_out in itertools.pairwise(hidden)]
        lasts = [layer(hidden[-1], out, last=True) for out in outputs]
        self.paths = [[first, *shared, last] for first, last in zip(firsts, lasts)]
        self.layers = [*firsts, *shared, *lasts]

    @property
    def params(self) -> list[np.ndarray]:
        """Every parameter array, layer by layer (see ``rng`` in the class docs)."""
        return [param for layer in self.layers for param in layer.params]

    def dense_weights(self, kind: int = 0) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Kind ``kind``'s network as plain dense layers ``(weights, biases)``, on ``[features, one_hot(agent)]``."""
        path = self.paths[kind]
        return [layer.dense_weight() for layer in path], [layer.bias for layer in path]

    def copy(self) -> MLP:
        """An independent copy (a frozen snapshot)."""
        return copy.deepcopy(self)  # keeps the kinds' paths through the same shared layers

    def forward(
        self, x: np.ndarray, kind: int = 0, rows: np.ndarray | None = None, agents: np.ndarray | None = None
    ) -> tuple[np.ndarray, list[Any]]:
        """Outputs of kind ``kind`` and the cache :meth:`backward` needs.

        Args:
            x: feature rows.
            kind: which kind's first and last layer.
            rows: the feature row of every sample (``None``: one sample per row of ``x``).
            agents: every sample's agent index (the kind must have an agent input, and only then).
        """
        activation = ACTIVATIONS[self.activation]
        path = self.paths[kind]
        first = path[0]
        if (agents is None) != (first.embedding is None):
            raise ValueError("pass agents exactly when the kind has an agent input")
        y = x @ first.weight.T
        if rows is not None:
            y = y[rows]
        if agents is not None:
            y = y + first.embedding.T[agents]  # type: ignore[union-attr]
        y = y + first.bias
        cache: list[Any] = [(x, rows, agents)]
        for layer in path[1:]:
            y = activation(y)
            cache.append(y)
            y = y @ layer.weight.T + layer.bias
        return y, cache

    def predict(
        self, x: np.ndarray, kind: int = 0, rows: np.ndarray | None = None, agents: np.ndarray | None = None
    ) -> np.ndarray:
        """Outputs of kind ``kind`` (arguments as :meth:`forward`)."""
        return self.forward(x, kind, rows, agents)[0]

    def zero_grads(self) -> list[np.ndarray]:
        """Zero gradients, one per :attr:`params` entry."""
        return [np.zeros_like(param) for param in self.params]

    def backward(
        self, cache: list[Any], grad_out: np.ndarray, kind: int = 0, grads: list[np.ndarray] | None = None
    ) -> list[np.ndarray]:
        """Gradients with respect to :attr:`params` of a loss whose gradient on kind ``kind``'s outputs is
        ``grad_out``, added to ``grads`` (zeros when ``None``); returns ``grads``."""
        derivative = _DERIVATIVES[self.activation]
        grads = self.zero_grads() if grads is None else grads
        where: dict[int, list[np.ndarray]] = {}
        offset = 0
        for layer in self.layers:
            count = len(layer.params)
            where[id(layer)] = grads[offset: offset + count]
            offset += count
        path = self.paths[kind]
        grad = grad_out
        for index in range(len(path) - 1, 0, -1):
            layer, layer_input = path[index], cache[index]
            weight_grad, bias_grad = where[id(layer)]
            weight_grad += grad.T @ layer_input
            bias_grad += grad.sum(axis=0)
            grad = (grad @ np.asfortranarray(layer.weight)) * derivative(layer_input)  # F order: faster BLAS
        x, rows, agents = cache[0]
        first_grads = where[id(path[0])]
        first_grads[-1] += grad.sum(axis=0)
        if agents is not None:
            first_grads[1] += _sum_rows(grad, agents, path[0].embedding.shape[1]).T  # type: ignore[union-attr]
        if rows is not None:
            grad = _sum_rows(grad, rows, x.shape[0])  # a feature row's gradient: the sum over its samples
        first_grads[0] += grad.T @ x
        return grads


def clip_by_global_norm(grads: list[np.ndarray], max_norm: float) -> float:
    """Scale ``grads`` in place so their global L2 norm is at most ``max_norm``; return the norm before."""
    norm = float(np.sqrt(sum(float(np.sum(g * g)) for g in grads)))
    if norm > max_norm:
        for g in grads:
            g *= max_norm / norm
    return norm


class Adam:
    """Adam (Kingma and Ba) on a list of parameter arrays, updated in place."""

    def __init__(self, params: list[np.ndarray], lr: float, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        self.params = params
        self.lr, self.betas, self.eps = lr, betas, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.steps = 0

    def step(self, grads: list[np.ndarray]) -> None:
        """Apply one update for ``grads`` (gradients of a loss to minimise)."""
        self.steps += 1
        beta1, beta2 = self.betas
        correction1 = 1.0 - beta1**self.steps
        correction2 = 1.0 - beta2**self.steps
        for param, grad, m, v in zip(self.params, grads, self.m, self.v):
            m *= beta1
            m += (1.0 - beta1) * grad
            v *= beta2
            v += (1.0 - beta2) * grad * grad
            param -= self.lr * (m / correction1) / (np.sqrt(v / correction2) + self.eps)
