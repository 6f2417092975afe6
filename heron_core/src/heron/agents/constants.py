"""The levels of the hierarchy: the ``level`` of each agent class."""

__all__ = ["COORDINATOR_LEVEL", "FIELD_LEVEL", "SYSTEM_LEVEL"]

FIELD_LEVEL = "field"
COORDINATOR_LEVEL = "coordinator"
SYSTEM_LEVEL = "system"
