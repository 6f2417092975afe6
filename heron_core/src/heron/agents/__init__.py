"""Agents of the HERON hierarchy: field agents, coordinators and the system agent."""

from heron.agents.base import Agent
from heron.agents.coordinator import CoordinatorAgent
from heron.agents.field import FieldAgent
from heron.agents.protocols import Protocol, VerticalProtocol
from heron.agents.state import State
from heron.agents.system import SystemAgent

__all__ = [
    "Agent",
    "CoordinatorAgent",
    "FieldAgent",
    "Protocol",
    "State",
    "SystemAgent",
    "VerticalProtocol",
]
