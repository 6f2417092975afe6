"""The agent base class shared by field agents, coordinators and the system agent.

The env calls these overridable methods, always with the arguments shown:

* ``init_state(features)``: once, when the agent is built;
* ``init_action(features)``: when the agent is built and when it gets subordinates;
* ``set_action(action)``: with the agent's action of the step;
* ``apply_action()``: before every simulation step;
* ``compute_local_reward(local_state)``: after every simulation step;
* ``is_terminated(local_state)``: after every step, for acting agents;
* ``on_reset(rng)``: at the end of every reset.

``set_state(**fields)`` is a hook for your own code: the env never calls it
and writes simulation results into the features itself, through each
feature's ``set_values(**fields)``.
"""

from __future__ import annotations

import copy
import operator
from abc import ABC
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from heron.agents._context import add_agent_note
from heron.agents.constants import COORDINATOR_LEVEL, FIELD_LEVEL, SYSTEM_LEVEL
from heron.core.action import Action
from heron.core.errors import ConfigError, SimulationError
from heron.core.feature import Feature
from heron.core.observation import check_observation_mode
from heron.core.state import CoordinatorAgentState, FieldAgentState, State, SystemAgentState
from heron.protocols.base import Protocol
from heron.scheduling.schedule_config import DEFAULT_FIELD_AGENT_SCHEDULE_CONFIG, ScheduleConfig

__all__ = ["Agent"]

_LAST_REWARD = operator.attrgetter("last_reward")
_STATE_CLASSES: dict[int, type[State]] = {
    FIELD_LEVEL: FieldAgentState, COORDINATOR_LEVEL: CoordinatorAgentState, SYSTEM_LEVEL: SystemAgentState,
}


class Agent(ABC):
    """An agent of the hierarchy: it holds features, may act, and earns a reward.

    Args:
        agent_id: unique, non-empty id.
        features: the agent's :class:`~heron.core.feature.Feature` instances (``None``: none).
            Their values at construction are the ones restored on every reset.
        observation_mode: what the agent's policy observes (``"local"``,
            ``"full"`` or ``"global"``).
        schedule_config: timing of the agent in event-driven runs (a
            :class:`~heron.scheduling.ScheduleConfig` or a dict of its fields);
            ``None`` uses the class's ``default_schedule_config``.
    """

    level: ClassVar[int] = FIELD_LEVEL
    default_schedule_config: ClassVar[ScheduleConfig] = DEFAULT_FIELD_AGENT_SCHEDULE_CONFIG
    protocol: Protocol | None = None

    def __init__(
        self,
        agent_id: str,
        features: Sequence[Feature] | None = (),
        *,
        observation_mode: str = "local",
        schedule_config: Any = None,
    ) -> None:
        if not isinstance(agent_id, str) or not agent_id:
            raise ConfigError(f"agent_id must be a non-empty string, got {agent_id!r}")
        if "." in agent_id:
            raise ConfigError(f"agent_id {agent_id!r} must not contain '.' (it separates agent and feature names)")
        self.agent_id = agent_id
        self.state = self._build_state(() if features is None else features)
        self._initial_values = copy.deepcopy(self.state.to_dict())
        self.observation_mode = check_observation_mode(observation_mode, f"agent {agent_id!r}")
        self.schedule_config = self.default_schedule_config if schedule_config is None else schedule_config
        self.upper: Agent | None = None
        self.subordinates: dict[str, Agent] = {}
        self.rng = np.random.default_rng()
        self.last_reward = 0.0
        self.action = self._build_action()

    # -------------------------------------------------------------- state
    def init_state(self, features: Sequence[Feature]) -> State:
        """Return the agent's :class:`~heron.core.state.State` holding ``features``.

        Default: the state class of the agent's level (``FieldAgentState``, ...).
        """
        return _STATE_CLASSES.get(self.level, State)(self.agent_id, self.level, list(features))

    def _build_state(self, features: Sequence[Feature]) -> State:
        if isinstance(features, (Feature, str)) or not isinstance(features, Iterable):
            raise ConfigError(
                f"agent {self.agent_id!r}: features must be a list of Feature instances, got {features!r}"
            )
        try:
            state = self.init_state(list(features))
        except Exception as exc:
            add_agent_note(exc, self, "init_state(features)")
            raise
        if not isinstance(state, State) or state.owner_id != self.agent_id:
            raise ConfigError(f"agent {self.agent_id!r}: init_state must return a State of owner {self.agent_id!r}, "
                              f"got {state!r}")
        return state

    # ------------------------------------------------------------ actions
    def init_action(self, features: Sequence[Feature]) -> Action:
        """Return the agent's :class:`Action` specification (empty: the agent does not act)."""
        return Action(self.agent_id)

    def _build_action(self) -> Action:
        try:
            action = self.init_action(list(self.state.features.values()))
        except Exception as exc:
            add_agent_note(exc, self, "init_action()")
            raise
        if not isinstance(action, Action):
            raise ConfigError(f"agent {self.agent_id!r}: init_action must return an Action, got {action!r}")
        action.owner = self.agent_id
        return action

    def set_action(self, action: Any) -> None:
        """Store ``action`` (an Action, a flat vector or a gymnasium sample) as the current action."""
        self.action.set_values(action)

    def apply_action(self) -> None:
        """Change the agent's features according to its current action (default: nothing)."""

    def set_state(self, **fields: Any) -> None:
        """Set feature fields by name, e.g. ``set_state(temperature=21.0)``: a hook for your own code.

        Each name must be a field of exactly one of the agent's features. The
        env never calls this method (overriding it changes nothing in a step).
        """
        by_feature: dict[str, dict[str, Any]] = {}
        for name, value in fields.items():
            owners = [key for key, f in self.state.features.items() if name in f.field_names]
            if len(owners) != 1:
                held = "no feature" if not owners else f"several features ({owners})"
                raise SimulationError(
                    f"agent {self.agent_id!r}: set_state({name}=...) names a field of {held}; "
                    f"set it on the feature instead: agent.state.features[name].set_values({name}=...)"
                )
            by_feature.setdefault(owners[0], {})[name] = value
        self.state.update(by_feature)

    def local_state(self) -> dict[str, np.ndarray]:
        """``{feature_name: vector}`` of all own features."""
        return self.state.arrays()

    def compute_local_reward(self, local_state: Mapping[str, np.ndarray]) -> float:
        """The agent's reward for the current state (default: sum of subordinates' rewards).

        ``local_state`` maps each own feature to its vector: read-only views of
        the env's state, valid during the call (copy what you keep). The env
        passes nothing else (an override may keep upstream's
        ``prev_post_physics_state=None`` parameter).
        """
        return float(sum(map(_LAST_REWARD, self.subordinates.values())))

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

    def attach_subordinates(self, subordinates: Mapping[str, Agent] | Iterable[Agent]) -> None:
        """Link ``subordinates`` (``{agent_id: agent}`` or agents) below this agent and rebuild its action.

        A protocol gets them first, through its ``register_subordinates({agent_id: agent})``.
        """
        linked = _as_agent_dict(subordinates, f"agent {self.agent_id!r}: subordinates")
        for sub in linked.values():
            sub.upper = self
            sub.state.upper_id = self.agent_id
        self.subordinates = linked
        if self.protocol is not None:
            try:
                self.protocol.register_subordinates(dict(linked))
            except Exception as exc:
                add_agent_note(exc, self, f"protocol ({type(self.protocol).__name__}).register_subordinates")
                raise
        self.action = self._build_action()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.agent_id!r}, features={list(self.state.features)})"


def _as_agent_dict(agents: Mapping[str, Agent] | Iterable[Agent], where: str) -> dict[str, Agent]:
    """``{agent_id: agent}`` from a dict keyed by id or from agents, checking ids and types."""
    if isinstance(agents, Mapping):
        for key, agent in agents.items():
            if not isinstance(agent, Agent):
                raise ConfigError(f"{where}: {key!r} maps to {agent!r}, not an agent")
            if key != agent.agent_id:
                raise ConfigError(f"{where}: key {key!r} holds agent {agent.agent_id!r}; key them by their ids")
        return dict(agents)
    if isinstance(agents, (str, Agent)) or not isinstance(agents, Iterable):
        raise ConfigError(f"{where} must be a dict {{agent_id: agent}} or a list of agents, got {agents!r}")
    out: dict[str, Agent] = {}
    for agent in agents:
        if not isinstance(agent, Agent):
            raise ConfigError(f"{where}: {agent!r} is not an agent")
        if agent.agent_id in out:
            raise ConfigError(f"{where}: agent id {agent.agent_id!r} appears twice")
        out[agent.agent_id] = agent
    return out
