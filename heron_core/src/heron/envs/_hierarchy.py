"""Linking the agents an env is given into one hierarchy, and choosing the acting agents.

An env gets agents from ``agents`` and ``coordinator_agents``, plus every
agent already linked below them (``CoordinatorAgent(subordinates=...)``).
``hierarchy`` (``{parent_id: [child_ids]}``) adds links. The top is one
:class:`SystemAgent`: the one given, or a new ``SystemAgent()``. When the
system agent's children are not given, every agent without a parent is
placed under it; when they are, an agent left without a parent is an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from heron.agents.base import Agent
from heron.agents.coordinator_agent import CoordinatorAgent
from heron.agents.field_agent import FieldAgent
from heron.agents.system_agent import SystemAgent
from heron.core.errors import ConfigError


def link_agents(
    agents: Sequence[Agent],
    coordinator_agents: Sequence[Agent],
    hierarchy: Mapping[str, Sequence[str]] | None,
    where: str,
) -> list[Agent]:
    """All agents, linked: field agents, then coordinators (deepest first), then the system agent."""
    by_id = _collect([*_agent_list(agents, f"{where}: agents"),
                      *_agent_list(coordinator_agents, f"{where}: coordinator_agents")], where)
    children = {aid: list(agent.subordinates) for aid, agent in by_id.items() if agent.subordinates}
    if hierarchy is not None:
        _merge_hierarchy(children, hierarchy, by_id, where)
    parent_of = _parents(children, where)
    system = _system_agent(by_id, children, parent_of, where)
    depth = _depths(system.agent_id, children, by_id, where)
    for parent_id, kids in children.items():
        if isinstance(by_id[parent_id], FieldAgent):
            raise ConfigError(f"{where}: field agent {parent_id!r} cannot have subordinates (got {kids})")
    for parent_id, kids in children.items():  # link only once everything is checked
        parent = by_id[parent_id]
        if list(parent.subordinates) != kids or any(by_id[k].upper is not parent for k in kids):
            parent.attach_subordinates([by_id[k] for k in kids])
    return sorted(by_id.values(), key=lambda agent: _rank(agent, depth[agent.agent_id]))


def _rank(agent: Agent, depth: int) -> tuple[int, int]:
    """Field agents first, then coordinators from the deepest up, then the system agent (rewards go bottom-up)."""
    if isinstance(agent, SystemAgent):
        return (2, 0)
    if isinstance(agent, CoordinatorAgent):
        return (1, -depth)
    return (0, 0)


def _agent_list(agents: Any, where: str) -> list[Agent]:
    if agents is None:
        return []
    if isinstance(agents, (str, Agent, Mapping)) or not isinstance(agents, Sequence):
        raise ConfigError(f"{where} must be a list of agents, got {agents!r}")
    for agent in agents:
        if not isinstance(agent, Agent):
            raise ConfigError(f"{where}: {agent!r} is not an agent")
    return list(agents)


def _collect(agents: Sequence[Agent], where: str) -> dict[str, Agent]:
    """Every agent given and every agent linked below one, in order (an agent before its subordinates)."""
    by_id: dict[str, Agent] = {}
    stack = list(reversed(agents))
    while stack:
        agent = stack.pop()
        known = by_id.get(agent.agent_id)
        if known is agent:
            continue
        if known is not None:
            raise ConfigError(f"{where}: duplicate agent id {agent.agent_id!r} (two different agents have it)")
        by_id[agent.agent_id] = agent
        stack.extend(reversed(list(agent.subordinates.values())))
    return by_id


def _merge_hierarchy(
    children: dict[str, list[str]], hierarchy: Any, by_id: Mapping[str, Agent], where: str
) -> None:
    if not isinstance(hierarchy, Mapping):
        raise ConfigError(f"{where}: hierarchy must be a dict {{parent_id: [child_ids]}}, got {hierarchy!r}")
    for parent_id, kids in hierarchy.items():
        if isinstance(kids, str) or not isinstance(kids, Sequence):
            raise ConfigError(f"{where}: hierarchy[{parent_id!r}] must be a list of agent ids, got {kids!r}")
        unknown = [aid for aid in [parent_id, *kids] if aid not in by_id]
        if unknown:
            raise ConfigError(f"{where}: hierarchy names unknown agent(s) {unknown}; the agents are {list(by_id)}")
        if len(set(kids)) != len(kids):
            raise ConfigError(f"{where}: hierarchy[{parent_id!r}] lists an agent twice: {list(kids)}")
        linked = children.get(parent_id)
        if linked is not None and set(linked) != set(kids):
            raise ConfigError(
                f"{where}: hierarchy gives {parent_id!r} the subordinates {list(kids)}, "
                f"but it was built with {linked}; give them in one place"
            )
        children[parent_id] = list(kids)


def _parents(children: Mapping[str, Sequence[str]], where: str) -> dict[str, str]:
    parent_of: dict[str, str] = {}
    for parent_id, kids in children.items():
        for kid in kids:
            if kid in parent_of:
                raise ConfigError(f"{where}: agent {kid!r} has two parents, {parent_of[kid]!r} and {parent_id!r}")
            parent_of[kid] = parent_id
    return parent_of


def _system_agent(
    by_id: dict[str, Agent], children: dict[str, list[str]], parent_of: Mapping[str, str], where: str
) -> SystemAgent:
    """The system agent given (or a new one), with every parentless agent under it."""
    systems = [agent for agent in by_id.values() if isinstance(agent, SystemAgent)]
    if len(systems) > 1:
        raise ConfigError(f"{where}: more than one system agent: {[s.agent_id for s in systems]}")
    system = systems[0] if systems else SystemAgent()
    if not systems:
        if system.agent_id in by_id:
            raise ConfigError(f"{where}: agent id {system.agent_id!r} is taken by {by_id[system.agent_id]!r}")
        by_id[system.agent_id] = system
    if system.agent_id in parent_of:
        raise ConfigError(f"{where}: the system agent {system.agent_id!r} is the top; it cannot be a subordinate")
    roots = [aid for aid in by_id if aid not in parent_of and aid != system.agent_id]
    if system.agent_id not in children:
        children[system.agent_id] = roots
    elif roots:
        raise ConfigError(
            f"{where}: agent(s) {roots} have no parent; name them in hierarchy "
            f"(under {system.agent_id!r} or a coordinator)"
        )
    return system


def _depths(root: str, children: Mapping[str, Sequence[str]], by_id: Mapping[str, Agent], where: str) -> dict[str, int]:
    depth = {root: 0}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for kid in children.get(parent, ()):
            depth[kid] = depth[parent] + 1
            frontier.append(kid)
    cut_off = [aid for aid in by_id if aid not in depth]
    if cut_off:
        raise ConfigError(f"{where}: hierarchy has a cycle through {cut_off}")
    return depth


def acting_ids(agents: Sequence[Agent], agent_ids: Sequence[str] | None, where: str) -> list[str]:
    """The agents that choose actions, in order: ``agent_ids`` checked, or every acting agent.

    An agent acts when its action is not empty and no acting coordinator above
    it passes it actions through a protocol.
    """
    acting = [a.agent_id for a in agents if a.acts and _controller(a) is None]
    if agent_ids is None:
        if not acting:
            raise ConfigError(f"{where}: no agent acts: every agent's init_action returned an empty Action")
        return acting
    if isinstance(agent_ids, str) or not isinstance(agent_ids, Sequence):
        raise ConfigError(f"{where}: agent_ids must be a list of agent ids, got {agent_ids!r}")
    by_id = {a.agent_id: a for a in agents}
    if len(set(agent_ids)) != len(agent_ids):
        raise ConfigError(f"{where}: agent_ids has duplicates: {list(agent_ids)}")
    for aid in agent_ids:
        if aid not in by_id:
            raise ConfigError(f"{where}: agent_ids names unknown agent {aid!r}; agents are {list(by_id)}")
        if not by_id[aid].acts:
            raise ConfigError(f"{where}: agent_ids names {aid!r}, which has no action (empty init_action)")
        boss = _controller(by_id[aid])
        if boss is not None:
            raise ConfigError(
                f"{where}: agent_ids names {aid!r}, whose actions come from {boss.agent_id!r} through its protocol"
            )
    missing = [aid for aid in acting if aid not in agent_ids]
    if missing:
        raise ConfigError(f"{where}: agent_ids leaves out acting agent(s) {missing}; list every acting agent")
    return list(agent_ids)


def _controller(agent: Agent) -> Agent | None:
    upper = agent.upper
    return upper if upper is not None and upper.protocol is not None and upper.acts else None
