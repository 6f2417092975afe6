"""Horizontal protocols: peers share state and each decides on its own.

The env does not run these (a coordinator under a :class:`HorizontalProtocol`
has no action and only observes); call :meth:`Protocol.coordinate` or
:meth:`StateShareCommunicationProtocol.compute_coordination_messages` yourself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from heron.core.errors import ConfigError, UnknownAgentError
from heron.protocols.base import ActionProtocol, CommunicationProtocol, Messages, Protocol
from heron.utils.typing import AgentID

__all__ = ["HorizontalProtocol", "StateShareCommunicationProtocol"]


def _names(value: Any, what: str) -> list[str]:
    """``value`` as a list of strings, refusing a single string (it is not a list of names)."""
    if isinstance(value, str) or not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{what} must be a list of names, got {value!r}")
    return list(value)


class StateShareCommunicationProtocol(CommunicationProtocol):
    """Each agent receives its neighbours' states: ``{"type": "neighbor_states", "neighbors": {id: state}}``.

    Args:
        state_fields: share only these keys of each state (states must then be
            dicts holding them); ``None`` shares each state as given (not copied).
        topology: ``{agent_id: [neighbour ids]}`` naming every receiver (``[]``
            for none); ``None`` connects every agent to all others.
    """

    def __init__(
        self,
        state_fields: Sequence[str] | None = None,
        topology: Mapping[AgentID, Sequence[AgentID]] | None = None,
    ) -> None:
        if state_fields is not None and not _names(state_fields, "state_fields"):
            raise ConfigError("state_fields=[] would share no field (upstream shares all); pass None to share all")
        if topology is not None and not isinstance(topology, Mapping):
            raise ConfigError(f"topology must be a dict {{agent_id: [neighbour ids]}}, got {topology!r}")
        self.state_fields = None if state_fields is None else list(state_fields)
        self.topology = (
            None
            if topology is None
            else {agent_id: _names(neighbours, f"topology[{agent_id!r}]") for agent_id, neighbours in topology.items()}
        )

    def compute_coordination_messages(
        self,
        sender_state: Any,
        receiver_states: Mapping[AgentID, Any] | None,
        context: Mapping[str, Any] | None = None,
    ) -> Messages:
        """One message per agent of ``receiver_states`` (``{agent_id: state}``); ``sender_state`` is unused."""
        if not isinstance(receiver_states, Mapping):
            raise ConfigError(f"receiver_states must be a dict {{agent_id: state}}, got {receiver_states!r}")
        topology = self._topology(receiver_states)
        return {
            agent_id: {
                "type": "neighbor_states",
                "neighbors": {nid: self._shared(nid, receiver_states[nid]) for nid in topology[agent_id]},
            }
            for agent_id in receiver_states
        }

    def _topology(self, states: Mapping[AgentID, Any]) -> dict[AgentID, list[AgentID]]:
        if self.topology is None:
            return {agent_id: [other for other in states if other != agent_id] for agent_id in states}
        named = {*self.topology, *(nid for neighbours in self.topology.values() for nid in neighbours)}
        unknown = sorted(named.difference(states))
        if unknown:
            raise UnknownAgentError(
                f"topology names agent(s) {unknown} that have no state here (agents: {list(states)}; upstream "
                f"ignores them)"
            )
        missing = [agent_id for agent_id in states if agent_id not in self.topology]
        if missing:
            raise ConfigError(f"topology has no entry for agent(s) {missing}; give each its neighbours ([] for none)")
        return self.topology

    def _shared(self, agent_id: AgentID, state: Any) -> Any:
        if self.state_fields is None:
            return state
        if not isinstance(state, Mapping):
            raise ConfigError(
                f"state_fields needs dict states, but agent {agent_id!r} has {type(state).__name__} {state!r} "
                f"(upstream shares it unfiltered)"
            )
        absent = [name for name in self.state_fields if name not in state]
        if absent:
            raise ConfigError(
                f"agent {agent_id!r}'s state has no field(s) {absent} of state_fields (it has {list(state)}; "
                f"upstream leaves them out)"
            )
        return {name: state[name] for name in self.state_fields}


class HorizontalProtocol(Protocol):
    """Peers share state (:class:`StateShareCommunicationProtocol`) and act independently.

    Args:
        communication_protocol: default ``StateShareCommunicationProtocol(state_fields, topology)``.
        action_protocol: default :class:`~heron.protocols.base.NoActionCoordination`.
        state_fields, topology: for the default communication protocol (an error
            together with ``communication_protocol``).
    """

    def __init__(
        self,
        communication_protocol: CommunicationProtocol | None = None,
        action_protocol: ActionProtocol | None = None,
        state_fields: Sequence[str] | None = None,
        topology: Mapping[AgentID, Sequence[AgentID]] | None = None,
    ) -> None:
        if communication_protocol is not None and (state_fields is not None or topology is not None):
            raise ConfigError(
                "HorizontalProtocol: state_fields and topology configure the default communication protocol; "
                "with communication_protocol= give them to that protocol instead (upstream ignores them)"
            )
        if communication_protocol is None:
            communication_protocol = StateShareCommunicationProtocol(state_fields, topology)
        super().__init__(communication_protocol, action_protocol)
