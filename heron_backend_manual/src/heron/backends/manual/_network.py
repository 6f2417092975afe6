"""Trainable dense networks in numpy: forward with a cache, backward, Adam and gradient clipping.

The layout matches :class:`heron.portable.mlp.MLPNetwork` (weights ``(out, in)``,
``hidden activation`` after every layer but the last), so a trained actor
exports without conversion and runs with heron-core alone.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from heron.portable.mlp import ACTIVATIONS

_DERIVATIVES = {  # derivative of the activation, written in terms of its output
    "tanh": lambda y: 1.0 - y * y,
    "relu": lambda y: (y > 0.0).astype(np.float64),
    "identity": np.ones_like,
}


class MLP:
    """A dense network whose parameters are the list ``[W0, b0, W1, b1, ...]``.

    Args:
        sizes: ``[inputs, hidden..., outputs]``.
        activation: hidden activation name (see :data:`heron.portable.mlp.ACTIVATIONS`).
        rng: draws the initial weights (normal, variance ``1 / fan_in``).
        output_scale: factor on the initial last-layer weights (small for an
            actor, so that its first actions are near the middle of the range).
    """

    def __init__(
        self, sizes: Sequence[int], activation: str, rng: np.random.Generator, output_scale: float = 1.0
    ) -> None:
        self.activation = activation
        self.params: list[np.ndarray] = []
        for index, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
            scale = (output_scale if index == len(sizes) - 2 else 1.0) / np.sqrt(fan_in)
            self.params += [rng.standard_normal((fan_out, fan_in)) * scale, np.zeros(fan_out)]

    @property
    def weights(self) -> list[np.ndarray]:
        return self.params[0::2]

    @property
    def biases(self) -> list[np.ndarray]:
        return self.params[1::2]

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """Outputs for input rows ``x`` and the cache :meth:`backward` needs (each layer's input)."""
        activation = ACTIVATIONS[self.activation]
        cache = [x]
        last = len(self.params) // 2 - 1
        for index, (weight, bias) in enumerate(zip(self.weights, self.biases)):
            x = x @ weight.T + bias
            if index < last:
                x = activation(x)
                cache.append(x)
        return x, cache

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Outputs for input rows ``x``."""
        return self.forward(x)[0]

    def backward(self, cache: list[np.ndarray], grad_out: np.ndarray) -> list[np.ndarray]:
        """Gradients of a loss with respect to :attr:`params`, given its gradient ``grad_out`` on the outputs."""
        derivative = _DERIVATIVES[self.activation]
        grads: list[np.ndarray] = [np.empty(0)] * len(self.params)
        grad = grad_out
        for index in range(len(self.params) // 2 - 1, -1, -1):
            layer_input = cache[index]
            grads[2 * index] = grad.T @ layer_input
            grads[2 * index + 1] = grad.sum(axis=0)
            if index > 0:
                grad = (grad @ self.params[2 * index]) * derivative(layer_input)
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
