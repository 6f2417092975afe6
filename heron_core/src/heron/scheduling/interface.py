"""The env interface the event-driven engine drives: :class:`EventDrivenEnv` and its agents.

:mod:`heron.scheduling` sits below :mod:`heron.envs` and never imports it;
:class:`heron.envs.base.BaseEnv` has this interface, and so may any other env.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from heron.core.policies import Policy
from heron.scheduling.analysis import EpisodeAnalyzer
from heron.scheduling.schedule_config import ScheduleConfig

__all__ = ["EventDrivenAgent", "EventDrivenEnv"]


class EventDrivenAgent(Protocol):
    """What an event-driven run uses of an agent (:class:`heron.agents.Agent` has it)."""

    agent_id: str
    schedule_config: ScheduleConfig | Mapping[str, Any]
    protocol: Any
    subordinates: Sequence[Any]

    def local_state(self) -> Mapping[str, np.ndarray]: ...

    def is_terminated(self, local_state: Mapping[str, np.ndarray]) -> bool: ...


class EventDrivenEnv(Protocol):
    """What an event-driven run uses of an env (:class:`heron.envs.base.BaseEnv` has it).

    The run drives the env through its step pieces (``observe``,
    ``apply_actions``, ``simulate``, ``compute_rewards``) and moves its clock
    (``step_count``, ``timestamp``).
    """

    env_id: str
    agents: list[str]
    possible_agents: list[str]
    all_agents: Mapping[str, EventDrivenAgent]
    max_steps: int
    step_count: int
    timestamp: float
    jitter_seed: int | None

    @property
    def np_random(self) -> np.random.Generator: ...

    @property
    def state_space(self) -> Any: ...

    def agent(self, agent_id: str) -> EventDrivenAgent: ...

    def check_policies(self, policies: Mapping[str, Policy] | None) -> dict[str, Policy]: ...

    def reset(self, *, seed: int | None = None, jitter_seed: int | None = None) -> Any: ...

    def set_agent_policies(self, policies: Mapping[str, Policy]) -> None: ...

    def run_event_driven(
        self, t_end: float, episode_analyzer: EpisodeAnalyzer | None = None, **options: Any
    ) -> Any: ...

    def observe(self, agent_id: str) -> Any: ...

    def apply_actions(self, actions: Mapping[str, Any], require_all: bool = False) -> None: ...

    def simulate(self) -> None: ...

    def compute_rewards(self) -> dict[str, float]: ...

    def state(self) -> np.ndarray: ...

    def simulation_state(self) -> Mapping[str, Mapping[str, Mapping[str, Any]]]: ...
