"""One policy group's actor and critic: acting on a batch, and the REINFORCE-with-baseline update."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from heron.backends.manual._groups import PolicyGroup
from heron.backends.manual._network import MLP, Adam, clip_by_global_norm
from heron.backends.manual._normalizer import RunningMeanStd
from heron.backends.manual._reinforce import actor_loss, discounted_returns, sample_actions, value_loss
from heron.backends.manual._rollout import GroupData, Rollout
from heron.backends.manual.config import ManualConfig
from heron.core.errors import CheckpointError
from heron.portable.mlp import MLPNetwork

ACTOR_OUTPUT_SCALE = 0.01  # initial actions near the middle of the range


def _one_hot(indices: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros((indices.size, size))
    out[np.arange(indices.size), indices] = 1.0
    return out


class GroupLearner:
    """Actor, critic, optimisers and normalisers of one :class:`PolicyGroup`.

    The critic reads the agent's observation, or the env's full state with a
    centralized critic, plus the agent's one-hot id when the group has several
    agents. It predicts returns normalised by their running statistics.

    Args:
        group: the agents trained together.
        config: hyper-parameters.
        state_dim: length of ``env.state()`` (the centralized critic's input).
        rng: draws the initial weights.
    """

    def __init__(self, group: PolicyGroup, config: ManualConfig, state_dim: int, rng: np.random.Generator) -> None:
        self.group, self.config = group, config
        self.num_agents = len(group.agent_ids)
        self.central = bool(config.centralized_critic)
        hidden = list(config.hidden_sizes)
        actor_inputs = group.obs_dim + (self.num_agents if group.agent_id_input else 0)
        self.critic_features = state_dim if self.central else group.obs_dim
        critic_inputs = self.critic_features + (self.num_agents if self.num_agents > 1 else 0)
        self.actor = MLP([actor_inputs, *hidden, group.head.output_size], config.activation, rng, ACTOR_OUTPUT_SCALE)
        self.critic = MLP([critic_inputs, *hidden, 1], config.activation, rng)
        self.actor_optimizer = Adam(self.actor.params, config.lr)
        self.critic_optimizer = Adam(self.critic.params, config.critic_lr)
        self.obs_stats = RunningMeanStd(group.obs_dim)
        self.critic_stats = RunningMeanStd(self.critic_features)
        self.return_stats = RunningMeanStd(1)
        self._acting: MLPNetwork | None = None

    # --------------------------------------------------------------- acting
    def network(self) -> MLPNetwork:
        """The current actor in the portable format (a snapshot: later training does not change it)."""
        normalize = self.config.normalize_obs
        return MLPNetwork(
            weights=tuple(self.actor.weights),
            biases=tuple(self.actor.biases),
            hidden_activation=self.config.activation,
            observation_mode=self.group.observation_mode,
            obs_dim=self.group.obs_dim,
            head=self.group.head,
            obs_mean=self.obs_stats.mean if normalize else None,
            obs_std=self.obs_stats.std if normalize else None,
            agent_ids=self.group.one_hot_ids,
        )

    def begin_rollout(self) -> None:
        """Freeze the actor (weights and normalisation) for the coming rollout."""
        self._acting = self.network()

    def act(
        self, obs: np.ndarray, agent_indices: np.ndarray, sigma: float, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Exploratory actions for observation rows (see :func:`~heron.backends.manual._reinforce.sample_actions`).

        The very first observations initialise the observation normalisation.
        """
        if self.config.normalize_obs and self.obs_stats.count == 0:
            self.obs_stats.update(obs)
            self._acting = self.network()
        if self._acting is None:
            raise RuntimeError("call begin_rollout() before act()")
        outputs = self._acting.outputs(self._acting.inputs(obs, agent_indices))
        return sample_actions(outputs, self.group.head, sigma, rng)

    # ------------------------------------------------------------- learning
    def _critic_inputs(self, features: np.ndarray, agent_indices: np.ndarray) -> np.ndarray:
        x = self.critic_stats.normalize(features) if self.config.normalize_obs else features
        if self.num_agents > 1:
            x = np.concatenate([x, _one_hot(agent_indices, self.num_agents)], axis=1)
        return x

    def _values(self, inputs: np.ndarray) -> np.ndarray:
        """Critic estimates of the return, in return units."""
        return self.critic.predict(inputs)[:, 0] * self.return_stats.std[0] + self.return_stats.mean[0]

    def update(self, data: GroupData, rollout: Rollout, sigma: float) -> dict[str, float]:
        """One actor step and ``critic_steps`` critic steps on the group's part of ``rollout``.

        Returns:
            ``policy_loss`` (the REINFORCE loss of the actor step), ``value_loss`` (of the last critic step, in
            normalised return units) and ``grad_norm`` (the actor gradient's global norm before clipping).
        """
        if self._acting is None:
            raise RuntimeError("call begin_rollout() before update()")
        config = self.config
        steps, copies, agents = np.nonzero(data.mask)
        tb, tj = np.nonzero(data.truncated)
        if self.central:
            assert rollout.states is not None and rollout.final_states is not None
            features, final_features = rollout.states[steps, copies], rollout.final_states[tb]
        else:
            features, final_features = data.obs[steps, copies, agents], data.final_obs[tb, tj]
        self.critic_stats.update(features)
        critic_x = self._critic_inputs(features, agents)

        bootstrap = np.zeros(data.truncated.shape)
        if tb.size:
            bootstrap[tb, tj] = self._values(self._critic_inputs(final_features, tj))
        returns = discounted_returns(data.rewards, data.mask, bootstrap, config.gamma)[steps, copies, agents]
        advantages = returns - self._values(critic_x)
        if config.normalize_advantages:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)

        obs = data.obs[steps, copies, agents]
        outputs, cache = self.actor.forward(self._acting.inputs(obs, agents))
        loss, grad_outputs = actor_loss(
            outputs, self.group.head, data.continuous[steps, copies, agents], data.choices[steps, copies, agents],
            advantages, sigma,
        )
        grads = self.actor.backward(cache, grad_outputs)
        actor_norm = clip_by_global_norm(grads, config.max_grad_norm)
        self.actor_optimizer.step(grads)

        self.return_stats.update(returns[:, None])
        targets = (returns - self.return_stats.mean[0]) / self.return_stats.std[0]
        for _ in range(config.critic_steps):
            predictions, cache = self.critic.forward(critic_x)
            critic_loss, grad_predictions = value_loss(predictions, targets)
            grads = self.critic.backward(cache, grad_predictions)
            clip_by_global_norm(grads, config.max_grad_norm)
            self.critic_optimizer.step(grads)
        if config.normalize_obs:
            self.obs_stats.update(obs)
        return {"policy_loss": loss, "value_loss": critic_loss, "grad_norm": actor_norm}

    # ---------------------------------------------------------------- state
    def state(self) -> dict[str, np.ndarray]:
        """Everything that changes during training, as arrays (copies)."""
        out: dict[str, np.ndarray] = {}
        for prefix, net, optimizer in (("actor", self.actor, self.actor_optimizer),
                                       ("critic", self.critic, self.critic_optimizer)):
            for i, (p, m, v) in enumerate(zip(net.params, optimizer.m, optimizer.v)):
                out[f"{prefix}_{i}"], out[f"{prefix}_m_{i}"], out[f"{prefix}_v_{i}"] = p.copy(), m.copy(), v.copy()
            out[f"{prefix}_steps"] = np.array(optimizer.steps)
        for prefix, stats in (("obs", self.obs_stats), ("critic_in", self.critic_stats),
                              ("return", self.return_stats)):
            for key, value in stats.state().items():
                out[f"{prefix}_{key}"] = value
        return out

    def load_state(self, state: Mapping[str, np.ndarray], where: str = "trainer state") -> None:
        """Restore what :meth:`state` returned.

        Raises:
            CheckpointError: an array is missing or has another shape than this learner's.
        """
        current = self.state()
        missing = sorted(set(current) - set(state))
        if missing:
            raise CheckpointError(f"{where}: policy {self.group.name!r} lacks array(s) {missing}")
        for key, array in current.items():
            if np.shape(state[key]) != array.shape:
                raise CheckpointError(
                    f"{where}: policy {self.group.name!r} array {key!r} has shape {np.shape(state[key])}, "
                    f"expected {array.shape} (were the hyperparams or the env changed?)"
                )
        for prefix, net, optimizer in (("actor", self.actor, self.actor_optimizer),
                                       ("critic", self.critic, self.critic_optimizer)):
            for i in range(len(net.params)):
                net.params[i][...] = state[f"{prefix}_{i}"]
                optimizer.m[i][...] = state[f"{prefix}_m_{i}"]
                optimizer.v[i][...] = state[f"{prefix}_v_{i}"]
            optimizer.steps = int(state[f"{prefix}_steps"])
        for prefix, stats in (("obs", self.obs_stats), ("critic_in", self.critic_stats),
                              ("return", self.return_stats)):
            stats.load_state({key: state[f"{prefix}_{key}"] for key in ("count", "mean", "m2")})
        self._acting = None
