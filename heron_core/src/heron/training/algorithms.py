"""What ``ippo`` and ``mappo`` mean, the same for every backend: who shares a policy and what the critic reads.

Example::

    from heron.training import ALGORITHM_DEFINITIONS, make_env, sharing_groups

    ALGORITHM_DEFINITIONS["mappo"].critic              # Critic.GLOBAL_STATE
    sharing_groups(make_env("thermostat"), "ippo")     # {"room_a": ["room_a"], "room_b": ["room_b"]}
    sharing_groups(make_env("thermostat"), "mappo")    # {"Thermostat": ["room_a", "room_b"]}

With its default hyperparameters a backend trains one policy per group of :func:`sharing_groups`: the
agents of a group act alike on the same observation, agents of different groups share nothing. Where
it learns a value function, the critic reads what :attr:`Algorithm.critic` names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType
from typing import NamedTuple

from heron.core.errors import ConfigError
from heron.envs.base import BaseEnv
from heron.utils.hints import did_you_mean

__all__ = [
    "ALGORITHM_DEFINITIONS",
    "SHARED_GROUP",
    "Algorithm",
    "Critic",
    "PolicySharing",
    "agent_kinds",
    "algorithm_definition",
    "resolve_sharing",
    "sharing_groups",
]


class PolicySharing(str, Enum):
    """Which acting agents share one policy (the same parameters)."""

    PER_AGENT = "per_agent"
    """Every acting agent has a policy of its own (groups named after the agent)."""
    PER_KIND = "per_kind"
    """The agents of one kind share a policy: a kind is one agent class (groups named after it), and its agents
    must have the same observation mode, observation size and action (else a :class:`ConfigError`)."""
    ALL = "all"
    """Every acting agent shares one policy (one group, :data:`SHARED_GROUP`). A backend may give each kind
    (agent class) input and output layers of its own around the shared hidden layers, so that kinds whose
    spaces differ can share; one that cannot build that refuses such envs with a :class:`ConfigError`.
    Chosen with ``sharing=`` (``mappo``'s ``policy_sharing``)."""


SHARED_GROUP = "shared"
"""The name of the one group of :attr:`PolicySharing.ALL`."""


class Critic(str, Enum):
    """What a learned value function reads (backends without one, e.g. evolutionary methods, have none)."""

    OWN_OBSERVATION = "own_observation"
    """The agent's own observation, as its actor."""
    GLOBAL_STATE = "global_state"
    """The env's global state ``env.state()``, to which a backend may add the agent's observation and id."""


@dataclass(frozen=True)
class Algorithm:
    """The meaning of one algorithm name.

    Attributes:
        name: what ``ExperimentSpec.algorithm`` holds.
        sharing: which agents share a policy.
        critic: what the critic reads.
        description: one line for users.
    """

    name: str
    sharing: PolicySharing
    critic: Critic
    description: str


ALGORITHM_DEFINITIONS: Mapping[str, Algorithm] = MappingProxyType({
    algorithm.name: algorithm
    for algorithm in (
        Algorithm("ippo", PolicySharing.PER_AGENT, Critic.OWN_OBSERVATION,
                  "independent learners: one policy per agent, each critic on the agent's own observation"),
        Algorithm("mappo", PolicySharing.PER_KIND, Critic.GLOBAL_STATE,
                  "one policy shared per kind of agent, a centralized critic on the env's global state"),
    )
})
"""``{name: Algorithm}`` of every algorithm HERON defines, in the order the CLI lists them."""


def algorithm_definition(name: str, backend: str | None = None) -> Algorithm:
    """The :class:`Algorithm` called ``name``.

    Raises:
        ConfigError: an unknown name (the message names ``backend`` when given).
    """
    definition = ALGORITHM_DEFINITIONS.get(name)
    if definition is None:
        where = f"backend {backend!r}: " if backend else ""
        hint = did_you_mean(name, ALGORITHM_DEFINITIONS)
        raise ConfigError(f"{where}unknown algorithm {name!r}{hint}; expected one of {list(ALGORITHM_DEFINITIONS)}")
    return definition


class _Spaces(NamedTuple):
    """What agents sharing a policy must have in common."""

    mode: str
    size: int
    dim_c: int
    ncats: tuple[int, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]

    def describe(self, agent_id: str) -> str:
        action = f"dim_c={self.dim_c}"
        if self.dim_c:
            action += f" range=({list(self.low)}, {list(self.high)})"
        if self.ncats:
            action += f" ncats={list(self.ncats)}"
        return f"{agent_id} observes {self.size} value(s) in mode {self.mode!r} and acts with {action}"


def _spaces(env: BaseEnv, agent_id: str) -> _Spaces:
    agent = env.agent(agent_id)
    action, mode = agent.action, agent.observation_mode
    return _Spaces(mode, env.observation_size(agent_id, mode), action.dim_c, tuple(action.ncats),
                   tuple(action.range[0].tolist()), tuple(action.range[1].tolist()))


def agent_kinds(env: BaseEnv, *, backend: str | None = None, algorithm: str = "mappo") -> dict[str, list[str]]:
    """``{kind_name: [agent_ids]}``: the acting agents grouped by class, in env order.

    A kind is named after its class (``_`` appended when two classes have the same name).

    Raises:
        ConfigError: agents of one class with different spaces (the message names ``algorithm`` and ``backend``).
    """
    kinds: dict[type, list[str]] = {}
    for aid in env.possible_agents:
        kinds.setdefault(type(env.agent(aid)), []).append(aid)
    groups: dict[str, list[str]] = {}
    for kind, agent_ids in kinds.items():
        spaces = {aid: _spaces(env, aid) for aid in agent_ids}
        if len(set(spaces.values())) > 1:
            details = "; ".join(sig.describe(aid) for aid, sig in spaces.items())
            where = f" (backend {backend!r})" if backend else ""
            raise ConfigError(
                f"{algorithm} shares one policy among the {kind.__name__} agents, but their spaces differ: {details}. "
                f"Give them the same observation mode, observation size and action, or train with ippo{where}"
            )
        name = kind.__name__
        while name in groups:
            name += "_"
        groups[name] = agent_ids
    return groups


def sharing_groups(
    env: BaseEnv, algorithm: str, backend: str | None = None, *, sharing: PolicySharing | str | None = None
) -> dict[str, list[str]]:
    """``{group_name: [agent_ids]}``: the acting agents that share one policy under ``algorithm``, in env order.

    ``ippo``: one group per agent, named after it. ``mappo``: one group per kind (:func:`agent_kinds`), or with
    ``sharing="all"`` one group :data:`SHARED_GROUP` of every acting agent.

    Args:
        sharing: replaces the algorithm's :attr:`Algorithm.sharing`; only an algorithm that shares per kind
            may share among all agents instead.

    Raises:
        ConfigError: an unknown algorithm or sharing, a sharing the algorithm does not allow, or agents of one
            class with different spaces; the message names ``backend`` when given.
    """
    chosen = resolve_sharing(algorithm, sharing, backend)
    if chosen is PolicySharing.PER_AGENT:
        return {aid: [aid] for aid in env.possible_agents}
    kinds = agent_kinds(env, backend=backend, algorithm=algorithm)  # also checks each kind's agents' spaces agree
    return {SHARED_GROUP: list(env.possible_agents)} if chosen is PolicySharing.ALL else kinds


def resolve_sharing(algorithm: str, sharing: PolicySharing | str | None, backend: str | None = None) -> PolicySharing:
    """The sharing ``algorithm`` trains with: ``sharing``, or its own (:attr:`Algorithm.sharing`) when ``None``.

    Raises:
        ConfigError: an unknown algorithm or sharing, or one the algorithm does not allow (only an algorithm
            that shares per kind may share among all agents instead).
    """
    definition = algorithm_definition(algorithm, backend)
    if sharing is None:
        return definition.sharing
    where = f"backend {backend!r}: " if backend else ""
    allowed = {definition.sharing} | ({PolicySharing.ALL} if definition.sharing is PolicySharing.PER_KIND else set())
    try:
        chosen = PolicySharing(sharing)
    except ValueError:
        raise ConfigError(
            f"{where}unknown policy sharing {sharing!r}; {definition.name} shares one of "
            f"{sorted(s.value for s in allowed)}"
        ) from None
    if chosen not in allowed:
        raise ConfigError(f"{where}{definition.name} shares {definition.sharing.value}; it cannot share "
                          f"{chosen.value!r} (expected one of {sorted(s.value for s in allowed)})")
    return chosen
