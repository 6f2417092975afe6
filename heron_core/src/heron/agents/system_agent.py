"""The system agent: the top of the hierarchy (a building operator, a grid operator)."""

from __future__ import annotations

from typing import ClassVar

from heron.agents.constants import SYSTEM_LEVEL
from heron.agents.coordinator_agent import CoordinatorAgent
from heron.scheduling.schedule_config import DEFAULT_SYSTEM_AGENT_SCHEDULE_CONFIG, ScheduleConfig

__all__ = ["SystemAgent"]


class SystemAgent(CoordinatorAgent):
    """Sits above all coordinators and unassigned field agents.

    It sees every feature with ``"system"`` visibility. By default it neither
    acts nor holds features, and its reward is the sum of its subordinates'.
    """

    level: ClassVar[str] = SYSTEM_LEVEL
    default_schedule_config: ClassVar[ScheduleConfig] = DEFAULT_SYSTEM_AGENT_SCHEDULE_CONFIG
