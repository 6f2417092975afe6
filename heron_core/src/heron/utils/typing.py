"""Type aliases used in signatures across HERON."""

__all__ = ["AgentID"]

#: An agent's id: a non-empty string without ``"."``.
AgentID = str
