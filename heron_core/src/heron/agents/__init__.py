"""Agents of the HERON hierarchy: field agents, coordinators and the system agent."""

from heron.agents.base import Agent
from heron.agents.constants import COORDINATOR_LEVEL, FIELD_LEVEL, SYSTEM_AGENT_ID, SYSTEM_LEVEL
from heron.agents.coordinator_agent import CoordinatorAgent
from heron.agents.field_agent import FieldAgent
from heron.agents.system_agent import SystemAgent

__all__ = [
    "COORDINATOR_LEVEL",
    "FIELD_LEVEL",
    "SYSTEM_AGENT_ID",
    "SYSTEM_LEVEL",
    "Agent",
    "CoordinatorAgent",
    "FieldAgent",
    "SystemAgent",
]
