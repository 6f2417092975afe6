"""The agent base class shared by field agents, coordinators and the system agent."""

from __future__ import annotations

import copy
import operator
from abc import ABC
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from heron.agents.constants import FIELD_LEVEL
from heron.core.action import Action
from heron.core.errors import ConfigError
from heron.core.feature import Feature
from heron.core.observation import check_observation_mode
from heron.core.state import State
from heron.protocols.base import Protocol
from heron.scheduling.schedule_config import DEFAULT_FIELD_AGENT_SCHEDULE_CONFIG, ScheduleConfig

__all__ = ["Agent"]

_LAST_REWARD = operator.attrgetter("last_reward")


class Agent(ABC):
    """An agent of the hierarchy: it holds features, may act, and earns a reward.

    Args:
        agent_id: unique, non-empty id.
        features: the agent's :class:`~heron.core.feature.Feature` instances. Their
            values at construction are the ones restored on every reset.
        observation_mode: what the agent's policy observes (``"local"``,
            ``"full"`` or ``"global"``).
        schedule_config: timing of the agent in event-driven runs (a
            :class:`~heron.scheduling.ScheduleConfig` or a dict of its fields);
            ``None`` uses the class's ``default_schedule_config``.
    """

    level: ClassVar[str] = FIELD_LEVEL
    default_schedule_config: ClassVar[ScheduleConfig] = DEFAULT_FIELD_AGENT_SCHEDULE_CONFIG

    def __init__(
        self,
        agent_id: str,
        features: Sequence[Feature] = (),
        *,
        observation_mode: str = "local",
        schedule_config: Any = None,
    ) -> None:
        if not isinstance(agent_id, str) or not agent_id:
            raise ConfigError(f"agent_id must be a non-empty string, got {agent_id!r}")
        if "." in agent_id:
            raise ConfigError(f"agent_id {agent_id!r} must not contain '.' (it separates agent and feature names)")
        self.agent_id = agent_id
        self.state = State(features, agent_id)
        self._initial_values = copy.deepcopy(self.state.to_dict())
        self.observation_mode = check_observation_mode(observation_mode, f"agent {agent_id!r}")
        self.schedule_config = self.default_schedule_config if schedule_config is None else schedule_config
        self.upper: Agent | None = None
        self.subordinates: list[Agent] = []
        self.protocol: Protocol | None = None
        self.rng = np.random.default_rng()
        self.last_reward = 0.0
        self.action = self._build_action()

    # ------------------------------------------------------------ actions
    def init_action(self, features: Sequence[Feature]) -> Action:
        """Return the agent's :class:`Action` specification (empty: the agent does not act)."""
        return Action(self.agent_id)

    def _build_action(self) -> Action:
        action = self.init_action(list(self.state.features.values()))
        if not isinstance(action, Action):
            raise ConfigError(f"agent {self.agent_id!r}: init_action must return an Action, got {action!r}")
        action.owner = self.agent_id
        return action

    def set_action(self, action: Any) -> None:
        """Store ``action`` (an Action, a flat vector or a gymnasium sample) as the current action."""
        self.action.set_values(action)

    def apply_action(self) -> None:
        """Change the agent's features according to its current action (default: nothing)."""

    # -------------------------------------------------------------- state
    def set_state(self, state: Mapping[str, Mapping[str, Any]]) -> None:
        """Write ``{feature_name: {field: value}}`` into the features."""
        self.state.update(state)

    def local_state(self) -> dict[str, np.ndarray]:
        """``{feature_name: vector}`` of all own features."""
        return self.state.arrays()

    def compute_local_reward(self, local_state: Mapping[str, np.ndarray]) -> float:
        """The agent's reward for the current state (default: sum of subordinates' rewards).

        ``local_state`` maps each own feature to its vector: read-only views of
        the env's state, valid during the call (copy what you keep).
        """
        return float(sum(map(_LAST_REWARD, self.subordinates)))

    def is_terminated(self, local_state: Mapping[str, np.ndarray]) -> bool:
        """Whether the agent's episode ended (default: never; ``max_steps`` truncates).

        ``local_state`` is what :meth:`compute_local_reward` receives.
        """
        return False

    # -------------------------------------------------------------- reset
    def reset(self, rng: np.random.Generator) -> None:
        """Restore the construction-time feature values, seed the agent, then call :meth:`on_reset`."""
        self.rng = rng
        self.state.update(copy.deepcopy(self._initial_values))
        self.action.reset()
        self.action.seed(rng)
        self.last_reward = 0.0
        self.on_reset(rng)

    def on_reset(self, rng: np.random.Generator) -> None:
        """Hook for random initial states: draw from ``rng`` only (it is seeded by ``env.reset``)."""

    # ---------------------------------------------------------- hierarchy
    @property
    def acts(self) -> bool:
        """Whether the agent has an action to choose."""
        return not self.action.is_empty()

    def attach_subordinates(self, subordinates: Sequence[Agent]) -> None:
        """Link ``subordinates`` below this agent and rebuild its action (it may depend on them)."""
        for sub in subordinates:
            sub.upper = self
        self.subordinates = list(subordinates)
        self.action = self._build_action()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.agent_id!r}, features={list(self.state.features)})"
