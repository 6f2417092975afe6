"""The policy-gradient pieces: sampling, discounted returns and the losses with their gradients.

The actor's outputs define a Gaussian over the continuous action (mean
``tanh(output)`` in the half-range units of :class:`~heron.portable.mlp.ActionHead`,
a fixed standard deviation ``sigma`` set by the exploration schedule) and a
categorical distribution per discrete head (softmax of its logits). The
REINFORCE loss of a batch is ``-mean(advantage * log pi(action | input))``.
"""

from __future__ import annotations

import numpy as np

from heron.portable.mlp import ActionHead


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def sample_actions(
    outputs: np.ndarray, head: ActionHead, sigma: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw exploratory actions for actor output rows.

    Returns:
        ``(env_actions, continuous, choices)``: flat actions for the env (scaled and
        clipped continuous values, then discrete indices), the sampled continuous
        values in half-range units before clipping (what the loss needs), and the
        chosen index of every discrete head.
    """
    n = outputs.shape[0]
    continuous = head.continuous(outputs) + sigma * rng.standard_normal((n, head.dim_c))
    choices = np.zeros((n, len(head.ncats)), dtype=np.int64)
    for index, logits in enumerate(head.logits(outputs)):
        cumulative = np.cumsum(np.exp(_log_softmax(logits)), axis=1)
        draws = rng.random((n, 1)) * cumulative[:, -1:]
        choices[:, index] = np.minimum((cumulative < draws).sum(axis=1), logits.shape[1] - 1)
    env_actions = head.scale(continuous)
    if head.ncats:
        env_actions = np.concatenate([env_actions, choices.astype(np.float64)], axis=1)
    return env_actions, continuous, choices


def actor_loss(
    outputs: np.ndarray,
    head: ActionHead,
    continuous: np.ndarray,
    choices: np.ndarray,
    advantages: np.ndarray,
    sigma: float,
    total: int | None = None,
) -> tuple[float, np.ndarray]:
    """REINFORCE loss ``-sum(A * log pi) / total`` of the sampled actions and its gradient on ``outputs``.

    ``total`` is the batch size the loss averages over (default: these rows; a policy acting for several
    kinds of agents sums the kinds' losses, each over the batch of all kinds).
    """
    n = outputs.shape[0]
    total = n if total is None else total
    grad = np.zeros_like(outputs)
    log_prob = np.zeros(n)
    weights = advantages[:, None] / total
    if head.dim_c:
        mean = head.continuous(outputs)
        z = (continuous - mean) / sigma
        log_prob += -0.5 * (z * z).sum(axis=1) - head.dim_c * (np.log(sigma) + 0.5 * np.log(2.0 * np.pi))
        d_mean = 1.0 - mean * mean if head.output_activation == "tanh" else 1.0
        grad[:, : head.dim_c] = -weights * (z / sigma) * d_mean
    rows = np.arange(n)
    for index, where in enumerate(head.logit_slices()):
        log_probs = _log_softmax(outputs[:, where])
        log_prob += log_probs[rows, choices[:, index]]
        d_logits = -np.exp(log_probs)
        d_logits[rows, choices[:, index]] += 1.0
        grad[:, where] = -weights * d_logits
    return float(-np.sum(advantages * log_prob) / total), grad


def value_loss(predictions: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """``0.5 * mean((prediction - target)^2)`` for ``(n, 1)`` predictions, and its gradient."""
    error = predictions[:, 0] - targets
    return float(0.5 * np.mean(error * error)), (error / error.size)[:, None]


def discounted_returns(rewards: np.ndarray, mask: np.ndarray, bootstrap: np.ndarray, gamma: float) -> np.ndarray:
    """Discounted reward-to-go of trajectories stored along axis 0.

    Args:
        rewards: ``(T, ...)`` rewards.
        mask: ``(T, ...)`` whether the step belongs to the trajectory (a prefix of each column).
        bootstrap: ``(...)`` value after the trajectory's last step (0 when it terminated,
            the critic's estimate when it was truncated).
        gamma: discount.

    Returns:
        ``(T, ...)`` returns, 0 outside the mask.
    """
    returns = np.zeros_like(rewards)
    running = np.asarray(bootstrap, dtype=np.float64)
    for t in range(rewards.shape[0] - 1, -1, -1):
        running = np.where(mask[t], rewards[t] + gamma * running, bootstrap)
        returns[t] = np.where(mask[t], running, 0.0)
    return returns
