"""The manual backend's network: the split first layer (distinct feature rows + agent embedding) and kinds that
share hidden layers, against plain dense layers and finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from heron.backends.manual import ManualTrainer
from heron.backends.manual._network import MLP
from heron.backends.manual._reinforce import actor_loss, sample_actions, value_loss
from heron.portable.mlp import ACTIVATIONS, ActionHead
from heron.training import ExperimentSpec

from .test_gradients import numeric_gradient, relative_error


def dense_forward(weights, biases, x, activation):
    """A plain dense network on input rows ``x`` (the portable format's math), with each layer's input."""
    inputs = [x]
    for index, (weight, bias) in enumerate(zip(weights, biases)):
        x = x @ weight.T + bias
        if index < len(weights) - 1:
            x = ACTIVATIONS[activation](x)
            inputs.append(x)
    return x, inputs


def one_hot(indices, size):
    out = np.zeros((indices.size, size))
    out[np.arange(indices.size), indices] = 1.0
    return out


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_split_first_layer_equals_a_dense_layer_on_the_concatenated_inputs(activation):
    rng = np.random.default_rng(7)
    features, agents, samples = 6, 5, 40
    net = MLP([(features, agents)], [8, 4], [1], activation, rng)
    for layer in net.layers:
        layer.bias[...] = rng.standard_normal(layer.bias.shape)
    states = rng.standard_normal((9, features))  # 9 distinct states, each read by several agents
    rows = rng.integers(0, 9, samples)
    agent_index = rng.integers(0, agents, samples)
    dense_x = np.concatenate([states[rows], one_hot(agent_index, agents)], axis=1)
    weights, biases = net.dense_weights()
    assert weights[0].shape == (8, features + agents)

    predictions, cache = net.forward(states, rows=rows, agents=agent_index)
    expected, layer_inputs = dense_forward(weights, biases, dense_x, activation)
    np.testing.assert_allclose(predictions, expected, rtol=1e-12, atol=1e-12)
    first_pre = states[rows] @ net.layers[0].weight.T + net.layers[0].embedding.T[agent_index] + net.layers[0].bias
    np.testing.assert_allclose(first_pre, dense_x @ weights[0].T + biases[0], rtol=1e-12, atol=1e-12)

    targets = rng.standard_normal(samples)
    _, grad_out = value_loss(predictions, targets)
    grads = net.backward(cache, grad_out)
    # the dense backward: grad_W = grad.T @ layer input, layer by layer
    dense_grads, grad = [], grad_out
    derivative = {"tanh": lambda y: 1 - y * y, "relu": lambda y: (y > 0).astype(float)}[activation]
    for index in range(len(weights) - 1, -1, -1):
        dense_grads[:0] = [grad.T @ layer_inputs[index], grad.sum(axis=0)]
        if index:
            grad = (grad @ weights[index]) * derivative(layer_inputs[index])
    w0, b0, *rest = dense_grads
    split = [w0[:, :features], w0[:, features:], b0, *rest]  # params order: W_features, W_agents, b, ...
    for got, want in zip(grads, split, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_kinds_share_the_hidden_layers_and_keep_their_own_first_and_last_layers():
    rng = np.random.default_rng(0)
    net = MLP([(3, 0), (5, 2)], [4, 6, 4], [1, 3], "tanh", rng)
    first_a, *shared_a, last_a = net.paths[0]
    first_b, *shared_b, last_b = net.paths[1]
    assert all(a is b for a, b in zip(shared_a, shared_b, strict=True)) and len(shared_a) == 2
    assert first_a is not first_b and last_a is not last_b
    assert [w.shape for w in net.dense_weights(1)[0]] == [(4, 7), (6, 4), (4, 6), (3, 4)]
    frozen = net.copy()
    assert frozen.paths[0][1] is frozen.paths[1][1] and frozen.paths[0][1] is not net.paths[0][1]
    with pytest.raises(ValueError, match="share hidden layers"):
        MLP([(3, 0), (5, 0)], [4], [1, 1], "tanh", rng)


def test_a_policy_of_two_kinds_has_the_gradient_of_its_summed_loss():
    rng = np.random.default_rng(5)
    heads = [ActionHead(1, [-1.0], [1.0], output_activation="tanh"), ActionHead(0, [], [], ncats=(3,))]
    net = MLP([(2, 0), (4, 3)], [5, 4], [head.output_size for head in heads], "tanh", rng, output_scale=0.5)
    for layer in net.layers:
        layer.bias[...] = 0.1 * rng.standard_normal(layer.bias.shape)
    xs = [rng.standard_normal((6, 2)), rng.standard_normal((4, 4))]
    agents = [None, rng.integers(0, 3, 4)]
    advantages = rng.standard_normal(10)
    parts = [slice(0, 6), slice(6, 10)]
    sigma = 0.3
    sampled = [sample_actions(net.predict(x, k, agents=a), head, sigma, rng)[1:]
               for k, (x, a, head) in enumerate(zip(xs, agents, heads))]

    def loss():
        return sum(
            actor_loss(net.predict(x, k, agents=a), head, c, d, advantages[part], sigma, total=10)[0]
            for k, (x, a, head, (c, d), part) in enumerate(zip(xs, agents, heads, sampled, parts))
        )

    grads = net.zero_grads()
    for k, (x, a, head, (c, d), part) in enumerate(zip(xs, agents, heads, sampled, parts)):
        outputs, cache = net.forward(x, k, agents=a)
        net.backward(cache, actor_loss(outputs, head, c, d, advantages[part], sigma, total=10)[1], k, grads)
    assert relative_error(grads, numeric_gradient(loss, net.params)) < 1e-6


def test_the_centralized_critic_reads_each_env_state_once_per_step_and_copy(monkeypatch):
    rooms, copies = 30, 2
    trainer = ManualTrainer(ExperimentSpec(algorithm="mappo", env_kwargs={"num_rooms": rooms, "max_steps": 10},
                                           hyperparams={"num_envs": copies}, stop={"episodes": copies}))
    critic = trainer.learners[0].critic
    seen = []
    forward = critic.forward

    def spy(x, kind=0, rows=None, agents=None):
        seen.append((x.shape, None if rows is None else rows.size, None if agents is None else agents.size))
        return forward(x, kind, rows, agents)

    monkeypatch.setattr(critic, "forward", spy)
    trainer.train()
    state_dim = trainer.learners[0].critic_stats.mean.size
    samples = 10 * copies * rooms  # every room acts at every step of both copies (no overheating here)
    assert (10 * copies, state_dim) in [shape for shape, _, _ in seen]  # 20 distinct states, not 600 rows
    assert all(x_shape[0] <= 10 * copies for x_shape, _, _ in seen)
    assert (samples, samples) in [(rows, agents) for _, rows, agents in seen]
