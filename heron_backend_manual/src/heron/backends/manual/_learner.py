"""One policy's actor and critic: acting on a batch, and the REINFORCE-with-baseline update."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from heron.backends.manual._groups import PolicyPlan
from heron.backends.manual._network import MLP, Adam, clip_by_global_norm
from heron.backends.manual._normalizer import RunningMeanStd
from heron.backends.manual._reinforce import actor_loss, discounted_returns, sample_actions, value_loss
from heron.backends.manual._rollout import GroupData, Rollout
from heron.backends.manual.config import ManualConfig
from heron.core.errors import CheckpointError
from heron.portable.mlp import MLPNetwork

ACTOR_OUTPUT_SCALE = 0.01  # initial actions near the middle of the range


class _CriticBatch:
    """Critic inputs of a batch of samples: distinct feature rows, each sample's row and agent index."""

    def __init__(self, features: np.ndarray, rows: np.ndarray | None, agents: np.ndarray | None) -> None:
        self.features, self.rows, self.agents = features, rows, agents

    @classmethod
    def of_states(cls, states: np.ndarray, cells: np.ndarray, agents: np.ndarray | None) -> _CriticBatch:
        """Samples reading ``states[cells[i]]``; each distinct state is stored once."""
        distinct, rows = np.unique(cells, return_inverse=True)
        return cls(states[distinct], rows, agents)

    @property
    def size(self) -> int:
        """Number of samples."""
        return self.features.shape[0] if self.rows is None else self.rows.size

    def counts(self) -> np.ndarray | None:
        """How many samples read each feature row (``None``: one each)."""
        return None if self.rows is None else np.bincount(self.rows, minlength=self.features.shape[0])


class PolicyLearner:
    """Actor, critic, optimisers and normalisers of one policy (:class:`PolicyPlan`).

    The actor has one input and one output layer per group of the policy (a kind of agent) around hidden
    layers every group shares; with one group it is a plain MLP. The critic reads the agent's
    observation, or the env's full state with a centralized critic, plus the agent's one-hot id (an
    embedding lookup, see :class:`~heron.backends.manual._network.MLP`) when the policy has several
    agents. It predicts returns normalised by their running statistics.

    Args:
        plan: the policy and its groups.
        config: hyper-parameters.
        state_dim: length of ``env.state()`` (the centralized critic's input).
        rng: draws the initial weights.
    """

    def __init__(self, plan: PolicyPlan, config: ManualConfig, state_dim: int, rng: np.random.Generator) -> None:
        self.name, self.groups, self.config = plan.name, plan.groups, config
        self.central = bool(config.centralized_critic)
        if not self.central and len(self.groups) > 1:
            raise ValueError("a policy of several groups needs the centralized critic")
        sizes = [len(group.agent_ids) for group in self.groups]
        self.offsets = np.cumsum([0, *sizes[:-1]]).tolist()
        self.num_agents = sum(sizes)
        hidden = list(config.hidden_sizes)
        self.actor = MLP(
            [(group.obs_dim, len(group.agent_ids) if group.agent_id_input else 0) for group in self.groups],
            hidden, [group.head.output_size for group in self.groups], config.activation, rng, ACTOR_OUTPUT_SCALE,
        )
        critic_features = state_dim if self.central else self.groups[0].obs_dim
        critic_agents = self.num_agents if self.num_agents > 1 else 0
        self.critic = MLP([(critic_features, critic_agents)], hidden, [1], config.activation, rng)
        self.actor_optimizer = Adam(self.actor.params, config.lr)
        self.critic_optimizer = Adam(self.critic.params, config.critic_lr)
        self.obs_stats = [RunningMeanStd(group.obs_dim) for group in self.groups]
        self.critic_stats = RunningMeanStd(critic_features)
        self.return_stats = RunningMeanStd(1)
        self._acting: MLP | None = None
        self._acting_norm: list[tuple[np.ndarray, np.ndarray] | None] = []

    # --------------------------------------------------------------- acting
    def network(self, index: int = 0) -> MLPNetwork:
        """Group ``index``'s current actor in the portable format (a snapshot: later training does not change it).

        It is the group's input layer, the shared hidden layers and the group's output layer.
        """
        group, normalize = self.groups[index], self.config.normalize_obs
        weights, biases = self.actor.dense_weights(index)
        return MLPNetwork(
            weights=tuple(weights),
            biases=tuple(biases),
            hidden_activation=self.config.activation,
            observation_mode=group.observation_mode,
            obs_dim=group.obs_dim,
            head=group.head,
            obs_mean=self.obs_stats[index].mean if normalize else None,
            obs_std=self.obs_stats[index].std if normalize else None,
            agent_ids=group.one_hot_ids,
        )

    def networks(self) -> dict[str, MLPNetwork]:
        """``{group name: network}`` (see :meth:`network`)."""
        return {group.name: self.network(index) for index, group in enumerate(self.groups)}

    def _frozen_norm(self, index: int) -> tuple[np.ndarray, np.ndarray] | None:
        stats = self.obs_stats[index]
        return (stats.mean.copy(), stats.std.copy()) if self.config.normalize_obs else None

    def begin_rollout(self) -> None:
        """Freeze the actor (weights and normalisation) for the coming rollout."""
        self._acting = self.actor.copy()
        self._acting_norm = [self._frozen_norm(index) for index in range(len(self.groups))]

    def _actor_inputs(self, index: int, obs: np.ndarray) -> np.ndarray:
        norm = self._acting_norm[index]
        return obs if norm is None else (obs - norm[0]) / norm[1]

    def _agent_input(self, index: int, agent_indices: np.ndarray) -> np.ndarray | None:
        return agent_indices if self.groups[index].agent_id_input else None

    def act(
        self, index: int, obs: np.ndarray, agent_indices: np.ndarray, sigma: float, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Exploratory actions of group ``index`` for observation rows (see
        :func:`~heron.backends.manual._reinforce.sample_actions`).

        The group's very first observations initialise its observation normalisation.
        """
        if self._acting is None:
            raise RuntimeError("call begin_rollout() before act()")
        if self.config.normalize_obs and self.obs_stats[index].count == 0:
            self.obs_stats[index].update(obs)
            self._acting_norm[index] = self._frozen_norm(index)
        x = self._actor_inputs(index, obs)
        outputs = self._acting.predict(x, index, agents=self._agent_input(index, agent_indices))
        return sample_actions(outputs, self.groups[index].head, sigma, rng)

    # ------------------------------------------------------------- learning
    def _critic_batch(
        self, index: Sequence[tuple[np.ndarray, ...]], own: np.ndarray, states: np.ndarray | None
    ) -> _CriticBatch:
        """Critic inputs of samples given, per group, as index arrays into the leading axes of ``own`` (the
        first group's observations) and ``states``: ``(step, copy, agent)``, or ``(copy, agent)`` after the
        last step."""
        agents = np.concatenate([offset + arrays[-1] for offset, arrays in zip(self.offsets, index)])
        agent_input = agents if self.num_agents > 1 else None
        if not self.central:
            return _CriticBatch(own[index[0]], None, agent_input)
        assert states is not None
        cells = np.concatenate([np.ravel_multi_index(arrays[:-1], states.shape[:-1]) for arrays in index])
        return _CriticBatch.of_states(states.reshape(-1, states.shape[-1]), cells, agent_input)

    def _critic_x(self, batch: _CriticBatch) -> np.ndarray:
        return self.critic_stats.normalize(batch.features) if self.config.normalize_obs else batch.features

    def _values(self, batch: _CriticBatch) -> np.ndarray:
        """Critic estimates of the return, in return units."""
        predictions = self.critic.predict(self._critic_x(batch), rows=batch.rows, agents=batch.agents)[:, 0]
        return predictions * self.return_stats.std[0] + self.return_stats.mean[0]

    def update(self, data: Sequence[GroupData], rollout: Rollout, sigma: float) -> dict[str, float]:
        """One actor step and ``critic_steps`` critic steps on the policy's part of ``rollout`` (``data``: one
        :class:`GroupData` per group).

        Returns:
            ``policy_loss`` (the REINFORCE loss of the actor step), ``value_loss`` (of the last critic step, in
            normalised return units) and ``grad_norm`` (the actor gradient's global norm before clipping).
        """
        if self._acting is None:
            raise RuntimeError("call begin_rollout() before update()")
        config = self.config
        samples = [np.nonzero(store.mask) for store in data]
        ends = [np.nonzero(store.truncated) for store in data]
        batch = self._critic_batch(samples, data[0].obs, rollout.states)
        final = self._critic_batch(ends, data[0].final_obs, rollout.final_states)
        self.critic_stats.update(batch.features, batch.counts())
        final_values = self._values(final) if final.size else np.zeros(0)
        returns_parts, start = [], 0
        for store, (tb, tj), (steps, copy_, agents) in zip(data, ends, samples):
            bootstrap = np.zeros(store.truncated.shape)
            bootstrap[tb, tj] = final_values[start: start + tb.size]
            start += tb.size
            returns_parts.append(discounted_returns(store.rewards, store.mask, bootstrap, config.gamma)[
                steps, copy_, agents])
        returns = np.concatenate(returns_parts)
        advantages = returns - self._values(batch)
        if config.normalize_advantages:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)

        loss, grads, start = 0.0, self.actor.zero_grads(), 0
        for index, (store, (steps, copy_, agents)) in enumerate(zip(data, samples)):
            stop = start + steps.size
            x = self._actor_inputs(index, store.obs[steps, copy_, agents])
            outputs, cache = self.actor.forward(x, index, agents=self._agent_input(index, agents))
            part, grad_outputs = actor_loss(
                outputs, self.groups[index].head, store.continuous[steps, copy_, agents],
                store.choices[steps, copy_, agents], advantages[start:stop], sigma, total=returns.size,
            )
            loss += part
            self.actor.backward(cache, grad_outputs, index, grads)
            start = stop
        actor_norm = clip_by_global_norm(grads, config.max_grad_norm)
        self.actor_optimizer.step(grads)

        self.return_stats.update(returns[:, None])
        targets = (returns - self.return_stats.mean[0]) / self.return_stats.std[0]
        critic_x = self._critic_x(batch)
        for _ in range(config.critic_steps):
            predictions, cache = self.critic.forward(critic_x, rows=batch.rows, agents=batch.agents)
            critic_loss, grad_predictions = value_loss(predictions, targets)
            grads = self.critic.backward(cache, grad_predictions)
            clip_by_global_norm(grads, config.max_grad_norm)
            self.critic_optimizer.step(grads)
        if config.normalize_obs:
            for stats, store, (steps, copy_, agents) in zip(self.obs_stats, data, samples):
                stats.update(store.obs[steps, copy_, agents])
        return {"policy_loss": loss, "value_loss": critic_loss, "grad_norm": actor_norm}

    # ---------------------------------------------------------------- state
    def _parts(self) -> tuple[tuple[str, MLP, Adam], ...]:
        return ("actor", self.actor, self.actor_optimizer), ("critic", self.critic, self.critic_optimizer)

    def _stats(self) -> list[tuple[str, RunningMeanStd]]:
        obs = [(f"obs{index}", stats) for index, stats in enumerate(self.obs_stats)]
        return [*obs, ("critic_in", self.critic_stats), ("return", self.return_stats)]

    def state(self) -> dict[str, np.ndarray]:
        """Everything that changes during training, as arrays (copies)."""
        out: dict[str, np.ndarray] = {}
        for prefix, net, optimizer in self._parts():
            for i, (p, m, v) in enumerate(zip(net.params, optimizer.m, optimizer.v)):
                out[f"{prefix}_{i}"], out[f"{prefix}_m_{i}"], out[f"{prefix}_v_{i}"] = p.copy(), m.copy(), v.copy()
            out[f"{prefix}_steps"] = np.array(optimizer.steps)
        for prefix, stats in self._stats():
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
            raise CheckpointError(f"{where}: policy {self.name!r} lacks array(s) {missing}")
        for key, array in current.items():
            if np.shape(state[key]) != array.shape:
                raise CheckpointError(
                    f"{where}: policy {self.name!r} array {key!r} has shape {np.shape(state[key])}, "
                    f"expected {array.shape} (were the hyperparams or the env changed?)"
                )
        for prefix, net, optimizer in self._parts():
            for i, param in enumerate(net.params):
                param[...] = state[f"{prefix}_{i}"]
                optimizer.m[i][...] = state[f"{prefix}_m_{i}"]
                optimizer.v[i][...] = state[f"{prefix}_v_{i}"]
            optimizer.steps = int(state[f"{prefix}_steps"])
        for prefix, stats in self._stats():
            stats.load_state({key: state[f"{prefix}_{key}"] for key in ("count", "mean", "m2")})
        self._acting = None

