"""Which agents share a policy: one per agent (IPPO) or one per kind of agent (MAPPO)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from heron.core.errors import ConfigError
from heron.envs.simple import DefaultHeronEnv
from heron.portable.mlp import ActionHead

__all__ = ["PolicyGroup", "make_groups"]


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


def _signature(env: DefaultHeronEnv, agent_id: str) -> tuple:
    agent = env.agent(agent_id)
    action = agent.action
    mode = agent.observation_mode
    return (mode, env.observation_size(agent_id, mode), action.dim_c, tuple(action.ncats),
            tuple(action.range[0].tolist()), tuple(action.range[1].tolist()))


def _describe(agent_id: str, signature: tuple) -> str:
    mode, size, dim_c, ncats, low, high = signature
    action = f"dim_c={dim_c}" + (f" range=({list(low)}, {list(high)})" if dim_c else "") + (
        f" ncats={list(ncats)}" if ncats else ""
    )
    return f"{agent_id} observes {size} value(s) in mode {mode!r} and acts with {action}"


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
    """The policy groups of ``env``'s acting agents for ``algorithm``.

    ``ippo``: one group per agent. ``mappo``: one group per agent class; its
    agents must have the same observation and action spaces.

    Raises:
        ConfigError: agents of one class have different spaces under ``mappo``.
    """
    if algorithm == "ippo":
        return [_group(env, aid, [aid], False) for aid in env.possible_agents]
    kinds: dict[type, list[str]] = {}
    for aid in env.possible_agents:
        kinds.setdefault(type(env.agent(aid)), []).append(aid)
    groups, names = [], set()
    for kind, agent_ids in kinds.items():
        signatures = {aid: _signature(env, aid) for aid in agent_ids}
        if len(set(signatures.values())) > 1:
            details = "; ".join(_describe(aid, sig) for aid, sig in signatures.items())
            raise ConfigError(
                f"mappo shares one policy among the {kind.__name__} agents, but their spaces differ: {details}. "
                "Give them the same observation mode, observation size and action, or train with ippo"
            )
        name = kind.__name__
        while name in names:
            name += "_"
        names.add(name)
        groups.append(_group(env, name, agent_ids, agent_id_input))
    return groups
