"""Which agents share a policy: one per agent (IPPO), one per kind of agent or one for all (MAPPO)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from heron.envs.simple import DefaultHeronEnv
from heron.portable.mlp import ActionHead
from heron.training.algorithms import (
    SHARED_GROUP,
    PolicySharing,
    agent_kinds,
    algorithm_definition,
    resolve_sharing,
    sharing_groups,
)

_BACKEND = "manual"  # the trainer's BACKEND_NAME, which imports this module


@dataclass(frozen=True, eq=False)
class PolicyGroup:
    """Agents of one kind (same spaces) acting with one network; a policy has one group or, shared by all
    agents, one group per kind.

    Attributes:
        name: the network's name in checkpoints (the agent id, or the agents' class name).
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


@dataclass(frozen=True, eq=False)
class PolicyPlan:
    """One trained policy (one actor, one critic): its name and the groups of agents it acts for."""

    name: str
    groups: tuple[PolicyGroup, ...]


def make_policies(
    env: DefaultHeronEnv, algorithm: str, agent_id_input: bool = False, sharing: str | None = None
) -> list[PolicyPlan]:
    """The policies of ``env``'s acting agents: :func:`heron.training.algorithms.sharing_groups` under ``sharing``.

    ``ippo``: one policy per agent. ``mappo``: one policy per agent class, or with ``sharing="all"`` one
    policy :data:`~heron.training.algorithms.SHARED_GROUP` with a group per class. A shared actor also gets
    the one-hot agent id (among its group's agents) when ``agent_id_input`` is set.

    Raises:
        ConfigError: a sharing the algorithm does not allow (``ManualConfig`` refuses it first), or agents of
            one class with different spaces under ``mappo``.
    """
    if resolve_sharing(algorithm, sharing, _BACKEND) is PolicySharing.ALL:
        kinds = agent_kinds(env, backend=_BACKEND, algorithm=algorithm)
        return [PolicyPlan(SHARED_GROUP, tuple(_group(env, n, ids, agent_id_input) for n, ids in kinds.items()))]
    policies = sharing_groups(env, algorithm, _BACKEND, sharing=sharing)
    shared = algorithm_definition(algorithm, _BACKEND).sharing is PolicySharing.PER_KIND
    return [
        PolicyPlan(name, (_group(env, name, agent_ids, shared and agent_id_input),))
        for name, agent_ids in policies.items()
    ]
