"""Type aliases used in signatures across HERON."""

from typing import Any

__all__ = ["AgentID", "MultiAgentDict"]

#: An agent's id: a non-empty string without ``"."``.
AgentID = str

#: A dict keyed by agent id, such as the observations or rewards of one step.
MultiAgentDict = dict[AgentID, Any]
