"""Which agents share a policy: one per agent (IPPO) or one per kind of agent (MAPPO)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from heron.envs.simple import DefaultHeronEnv
from heron.portable.mlp import ActionHead
from heron.training.algorithms import PolicySharing, algorithm_definition, sharing_groups

_BACKEND = "manual"  # the trainer's BACKEND_NAME, which imports this module


@dataclass(frozen=True, eq=False)
class PolicyGroup:
    """Agents trained with one actor and one critic.

    Attributes:
        name: the policy's name in checkpoints (the agent id, or the agents' class name).
        agent_ids: the agents, in env order.
        observation_mode: what the actor observes.
        obs_dim: length of the actor's observation vector.
        head: how the actor's outputs become actions.
        agent_id_input: whether the actor also gets the agent's one-hot id.
    """

    name: str
    agent_ids: tuple[str, ...]
    observation_mode: str
    obs_dim: int
    head: ActionHead
    agent_id_input: bool = False

    @property
    def one_hot_ids(self) -> tuple[str, ...] | None:
        """The actor's one-hot agent order, or ``None``."""
        return self.agent_ids if self.agent_id_input else None


def _group(env: DefaultHeronEnv, name: str, agent_ids: Sequence[str], agent_id_input: bool) -> PolicyGroup:
    agent = env.agent(agent_ids[0])
    return PolicyGroup(
        name=name,
        agent_ids=tuple(agent_ids),
        observation_mode=agent.observation_mode,
        obs_dim=env.observation_size(agent.agent_id, agent.observation_mode),
        head=ActionHead.from_action(agent.action, output_activation="tanh", scaling="normalized"),
        agent_id_input=agent_id_input,
    )


def make_groups(env: DefaultHeronEnv, algorithm: str, agent_id_input: bool = False) -> list[PolicyGroup]:
    """The policy groups of ``env``'s acting agents: :func:`heron.training.algorithms.sharing_groups`.

    ``ippo``: one group per agent. ``mappo``: one group per agent class, whose
    actor also gets the one-hot agent id when ``agent_id_input`` is set.

    Raises:
        ConfigError: agents of one class have different spaces under ``mappo``.
    """
    shared = algorithm_definition(algorithm, _BACKEND).sharing is PolicySharing.PER_KIND
    return [
        _group(env, name, agent_ids, shared and agent_id_input)
        for name, agent_ids in sharing_groups(env, algorithm, _BACKEND).items()
    ]
