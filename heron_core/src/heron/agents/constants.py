"""The levels of the hierarchy (the ``level`` of each agent class) and the system agent's default id.

Levels are numbered from the bottom as upstream HERON numbers them: field
agents are level 1, coordinators level 2, the system agent level 3.
"""

__all__ = ["COORDINATOR_LEVEL", "FIELD_LEVEL", "SYSTEM_AGENT_ID", "SYSTEM_LEVEL"]

FIELD_LEVEL = 1
COORDINATOR_LEVEL = 2
SYSTEM_LEVEL = 3

SYSTEM_AGENT_ID = "system_agent"
