"""The manual backend's analytic gradients against central finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from heron.backends.manual._network import MLP, Adam, clip_by_global_norm
from heron.backends.manual._reinforce import actor_loss, discounted_returns, sample_actions, value_loss
from heron.portable.mlp import ActionHead

EPS = 1e-6
TOLERANCE = 1e-6  # relative error of analytic vs numeric gradient


def random_mlp(sizes, activation, rng, output_scale=1.0):
    """An MLP with random biases too (zero biases put ReLU units exactly on their kink)."""
    net = MLP([(sizes[0], 0)], sizes[1:-1], [sizes[-1]], activation, rng, output_scale)
    for layer in net.layers:
        layer.bias[...] = 0.1 * rng.standard_normal(layer.bias.shape)
    return net


def numeric_gradient(loss, params):
    grads = []
    for param in params:
        grad = np.zeros_like(param)
        for index in np.ndindex(param.shape):
            saved = param[index]
            param[index] = saved + EPS
            plus = loss()
            param[index] = saved - EPS
            minus = loss()
            param[index] = saved
            grad[index] = (plus - minus) / (2 * EPS)
        grads.append(grad)
    return grads


def relative_error(analytic, numeric):
    a = np.concatenate([g.ravel() for g in analytic])
    n = np.concatenate([g.ravel() for g in numeric])
    return np.linalg.norm(a - n) / max(np.linalg.norm(a) + np.linalg.norm(n), 1e-12)


HEADS = {
    "continuous tanh": ActionHead(2, [-1.0, 0.0], [1.0, 4.0], output_activation="tanh"),
    "continuous identity": ActionHead(1, [-2.0], [2.0], output_activation="identity"),
    "discrete": ActionHead(0, [], [], ncats=(3, 2)),
    "mixed": ActionHead(1, [-1.0], [1.0], ncats=(4,), output_activation="tanh"),
}


@pytest.mark.parametrize("activation", ["tanh", "relu", "identity"])
@pytest.mark.parametrize("head_name", list(HEADS))
def test_actor_gradient_matches_finite_differences(activation, head_name):
    head = HEADS[head_name]
    rng = np.random.default_rng(3)
    net = random_mlp([3, 5, 4, head.output_size], activation, rng, output_scale=0.5)
    x = rng.standard_normal((7, 3))
    sigma = 0.3
    _, continuous, choices = sample_actions(net.predict(x), head, sigma, rng)
    advantages = rng.standard_normal(7)

    def loss():
        return actor_loss(net.predict(x), head, continuous, choices, advantages, sigma)[0]

    outputs, cache = net.forward(x)
    _, grad_outputs = actor_loss(outputs, head, continuous, choices, advantages, sigma)
    analytic = net.backward(cache, grad_outputs)
    assert relative_error(analytic, numeric_gradient(loss, net.params)) < TOLERANCE


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_critic_gradient_matches_finite_differences(activation):
    rng = np.random.default_rng(4)
    net = random_mlp([4, 6, 1], activation, rng)
    x = rng.standard_normal((9, 4))
    targets = rng.standard_normal(9)

    def loss():
        return value_loss(net.predict(x), targets)[0]

    predictions, cache = net.forward(x)
    analytic = net.backward(cache, value_loss(predictions, targets)[1])
    assert relative_error(analytic, numeric_gradient(loss, net.params)) < TOLERANCE


def test_actor_loss_is_the_negative_advantage_weighted_log_likelihood():
    head = HEADS["mixed"]
    outputs = np.array([[0.2, 1.0, 0.0, -1.0, 0.5]])
    continuous, choices = np.array([[0.5]]), np.array([[2]])
    sigma = 0.4
    mean = np.tanh(0.2)
    gaussian = -0.5 * ((0.5 - mean) / sigma) ** 2 - np.log(sigma) - 0.5 * np.log(2 * np.pi)
    logits = outputs[0, 1:]
    categorical = logits[2] - np.log(np.exp(logits).sum())
    loss, _ = actor_loss(outputs, head, continuous, choices, np.array([2.0]), sigma)
    assert loss == pytest.approx(-2.0 * (gaussian + categorical))


def test_sampled_actions_follow_the_policy():
    head = HEADS["mixed"]
    rng = np.random.default_rng(0)
    outputs = np.tile([[0.3, 2.0, 0.0, 0.0, -1.0]], (20000, 1))
    env_actions, continuous, choices = sample_actions(outputs, head, 0.2, rng)
    assert continuous.mean() == pytest.approx(np.tanh(0.3), abs=0.01)
    assert continuous.std() == pytest.approx(0.2, abs=0.01)
    assert np.all(np.abs(env_actions[:, 0]) <= 1.0)  # clipped to the action range for the env
    probabilities = np.exp([2.0, 0.0, 0.0, -1.0]) / np.exp([2.0, 0.0, 0.0, -1.0]).sum()
    frequencies = np.bincount(choices[:, 0], minlength=4) / choices.shape[0]
    np.testing.assert_allclose(frequencies, probabilities, atol=0.01)
    np.testing.assert_array_equal(env_actions[:, 1], choices[:, 0])


def test_discounted_returns_bootstrap_truncated_and_not_terminated_trajectories():
    rewards = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 0.0]])
    mask = np.array([[True, True], [True, True], [True, False]])
    bootstrap = np.array([10.0, 0.0])  # column 0 truncated with value 10; column 1 terminated at step 1
    returns = discounted_returns(rewards, mask, bootstrap, gamma=0.5)
    np.testing.assert_allclose(returns[:, 0], [1 + 0.5 * 2 + 0.25 * 3 + 0.125 * 10, 2 + 0.5 * 3 + 0.25 * 10, 3 + 5])
    np.testing.assert_allclose(returns[:, 1], [1 + 0.5 * 2, 2, 0])


def test_gradient_clipping_and_adam():
    grads = [np.array([3.0]), np.array([4.0])]
    assert clip_by_global_norm(grads, 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose([grads[0][0], grads[1][0]], [0.6, 0.8])
    params = [np.array([1.0, -1.0])]
    optimizer = Adam(params, lr=0.1)
    optimizer.step([np.array([2.0, -0.5])])
    np.testing.assert_allclose(params[0], [0.9, -0.9])  # first Adam step moves every entry by lr
