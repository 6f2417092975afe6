"""The levels of the hierarchy: the ``level`` of each agent class."""

__all__ = ["AGENT_LEVELS", "COORDINATOR_LEVEL", "FIELD_LEVEL", "SYSTEM_LEVEL"]

FIELD_LEVEL = "field"
COORDINATOR_LEVEL = "coordinator"
SYSTEM_LEVEL = "system"
AGENT_LEVELS: tuple[str, ...] = (FIELD_LEVEL, COORDINATOR_LEVEL, SYSTEM_LEVEL)
