"""Coordinators: agents that group field agents (a building over its rooms)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from heron.agents.base import Agent
from heron.agents.constants import COORDINATOR_LEVEL
from heron.core.action import Action
from heron.core.feature import Feature
from heron.protocols.base import Protocol
from heron.protocols.registry import make_protocol
from heron.scheduling.schedule_config import DEFAULT_COORDINATOR_AGENT_SCHEDULE_CONFIG, ScheduleConfig

__all__ = ["CoordinatorAgent"]


class CoordinatorAgent(Agent):
    """Groups field agents; observes their public and upper-level features.

    With a protocol (``"vertical"`` or a :class:`Protocol`), the coordinator
    acts on every step and its action reaches its subordinates through the
    protocol; those subordinates then take no action of their own. Without a
    protocol it only observes (override :meth:`init_action` and
    :meth:`apply_action` to give it actuators of its own). Its reward defaults
    to the sum of its subordinates' rewards.

    Args:
        agent_id: unique, non-empty id.
        features: the coordinator's own features.
        subordinates: agents below it, ``{agent_id: agent}`` or a list; an env's
            ``hierarchy`` may name them instead.
        protocol: ``None``, a protocol name or a :class:`Protocol`.
        observation_mode, schedule_config: as for every :class:`Agent`.
    """

    level: ClassVar[int] = COORDINATOR_LEVEL
    default_schedule_config: ClassVar[ScheduleConfig] = DEFAULT_COORDINATOR_AGENT_SCHEDULE_CONFIG

    def __init__(
        self,
        agent_id: str,
        features: Sequence[Feature] | None = (),
        *,
        subordinates: Mapping[str, Agent] | Iterable[Agent] | None = None,
        protocol: Protocol | str | None = None,
        observation_mode: str = "local",
        schedule_config: Any = None,
    ) -> None:
        self.protocol = make_protocol(protocol, str(agent_id))
        super().__init__(agent_id, features, observation_mode=observation_mode, schedule_config=schedule_config)
        if subordinates is not None:
            self.attach_subordinates(subordinates)

    def init_action(self, features: Sequence[Feature]) -> Action:
        """The protocol's joint action over the subordinates, or no action without protocol."""
        if self.protocol is None or not self.subordinates:
            return Action(self.agent_id)
        return self.protocol.joint_action(self.agent_id, list(self.subordinates.values()))
