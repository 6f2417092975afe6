"""The system agent: the top of the hierarchy (a building operator, a grid operator)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from heron.agents.base import Agent
from heron.agents.constants import SYSTEM_AGENT_ID, SYSTEM_LEVEL
from heron.agents.coordinator_agent import CoordinatorAgent
from heron.core.feature import Feature
from heron.protocols.base import Protocol
from heron.scheduling.schedule_config import DEFAULT_SYSTEM_AGENT_SCHEDULE_CONFIG, ScheduleConfig

__all__ = ["SystemAgent"]


class SystemAgent(CoordinatorAgent):
    """Sits above all coordinators and unassigned field agents (default id ``"system_agent"``).

    It sees every feature with ``"system"`` visibility. By default it neither
    acts nor holds features, and its reward is the sum of its subordinates'.
    """

    level: ClassVar[int] = SYSTEM_LEVEL
    default_schedule_config: ClassVar[ScheduleConfig] = DEFAULT_SYSTEM_AGENT_SCHEDULE_CONFIG

    def __init__(
        self,
        agent_id: str = SYSTEM_AGENT_ID,
        features: Sequence[Feature] | None = (),
        *,
        subordinates: Mapping[str, Agent] | Iterable[Agent] | None = None,
        protocol: Protocol | str | None = None,
        observation_mode: str = "local",
        schedule_config: Any = None,
    ) -> None:
        super().__init__(
            agent_id,
            features,
            subordinates=subordinates,
            protocol=protocol,
            observation_mode=observation_mode,
            schedule_config=schedule_config,
        )
