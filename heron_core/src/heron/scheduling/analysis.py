"""What an event-driven run leaves behind: :class:`EventDrivenStats` and the :class:`EpisodeAnalyzer`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from heron.core.errors import ConfigError, UnknownAgentError
from heron.scheduling.event import Event, EventType
from heron.utils._plotting import png_figure

__all__ = ["EpisodeAnalyzer", "EpisodeStats", "EventAnalysis", "EventDrivenStats"]

logger = logging.getLogger("heron.scheduling")

#: The one kind of message of a run: a coordinator's action, which its protocol splits among its subordinates.
COORDINATOR_ACTION = "coordinator_action"
_MESSAGE_TYPES = {EventType.MESSAGE_DELIVERY: COORDINATOR_ACTION}
_NOT_RECORDED = "the event timeline was not recorded: use EpisodeAnalyzer(record_events=True) (or track_data=True)"


class EventAnalysis(NamedTuple):
    """One processed event of the timeline (``message_type`` is set for messages only)."""

    event_type: EventType
    timestamp: float
    agent_id: str | None
    message_type: str | None = None


class _Summary(dict):  # type: ignore[type-arg]
    """The summary dict; upstream HERON's keys that have no counterpart here are explained errors."""

    _UPSTREAM_ONLY = {
        "global_states": "its proxy's get_global_state_response messages",
        "local_states": "its proxy's get_local_state_response messages",
    }

    def __missing__(self, key: str) -> Any:
        if key in self._UPSTREAM_ONLY:
            raise KeyError(
                f"summary() has no {key!r}: upstream HERON counted {self._UPSTREAM_ONLY[key]}; HERON runs need no "
                "proxy, so there are none (the state is read at every simulation step: see 'state_updates')"
            )
        raise KeyError(key)


@dataclass
class EventDrivenStats:
    """Totals of one event-driven run.

    Attributes:
        num_events: events processed.
        events_by_type: events processed per event type name.
        duration: simulated time the run covered (``t_end``, or when every acting agent terminated).
        sim_steps: simulation steps taken.
        agent_returns: every agent's summed reward (acting agents, their subordinates, the system agent).
        acting_agents: the agents that chose actions (``env.possible_agents``).
        terminated: ``{agent_id: time}`` of the acting agents that terminated.
        pending_events: events still queued after ``t_end`` (decisions that never took effect, ...).
        wall_time_s: seconds the run took.
        events_by_agent: events processed per agent (simulation steps belong to no agent and are not counted).
        reward_reports: reward entries delivered (one per agent per tick that closed a simulation step, plus the
            last at the end).
        timeline: every processed event, when the analyzer recorded events (read it as :attr:`event_analyses`).
    """

    num_events: int
    events_by_type: dict[str, int]
    duration: float
    sim_steps: int
    agent_returns: dict[str, float]
    acting_agents: list[str]
    terminated: dict[str, float] = field(default_factory=dict)
    pending_events: int = 0
    wall_time_s: float = 0.0
    events_by_agent: dict[str, int] = field(default_factory=dict)
    reward_reports: int = 0
    timeline: list[EventAnalysis] | None = None

    @property
    def event_analyses(self) -> list[EventAnalysis]:
        """Every processed event in order (needs ``EpisodeAnalyzer(record_events=True)`` or ``track_data=True``)."""
        if self.timeline is None:
            raise ConfigError(_NOT_RECORDED)
        return self.timeline

    @property
    def team_return(self) -> float:
        """Sum of the acting agents' returns (what synchronous evaluation calls the team return)."""
        return float(sum(self.agent_returns[aid] for aid in self.acting_agents))

    @property
    def all_terminated(self) -> bool:
        """Whether every acting agent terminated before ``t_end``."""
        return len(self.terminated) == len(self.acting_agents)

    def summary(self) -> dict[str, Any]:
        """A JSON-ready dict of the totals.

        Besides this class's fields it has upstream HERON's keys: ``event_counts`` (the event types that
        occurred), ``agent_event_counts``, ``message_type_counts``, ``observations`` (observations that
        reached a policy), ``state_updates`` (simulation steps: the state changes only there),
        ``action_results`` (reward reports), ``start_time`` and ``end_time`` (the simulated interval).
        """
        messages = self.events_by_type.get(EventType.MESSAGE_DELIVERY.value, 0)
        return _Summary({
            "num_events": self.num_events,
            "events_by_type": dict(self.events_by_type),
            "event_counts": {kind: count for kind, count in self.events_by_type.items() if count},
            "agent_event_counts": dict(self.events_by_agent),
            "message_type_counts": {COORDINATOR_ACTION: messages} if messages else {},
            "observations": self.events_by_type.get(EventType.OBSERVATION_READY.value, 0),
            "state_updates": self.sim_steps,
            "action_results": self.reward_reports,
            "start_time": 0.0,
            "end_time": self.duration,
            "duration": self.duration,
            "sim_steps": self.sim_steps,
            "team_return": self.team_return,
            "agent_returns": dict(self.agent_returns),
            "terminated": dict(self.terminated),
            "all_terminated": self.all_terminated,
            "pending_events": self.pending_events,
            "wall_time_s": self.wall_time_s,
            "events_per_second": self.num_events / self.wall_time_s if self.wall_time_s > 0 else float("nan"),
        })


#: Upstream HERON's name of :class:`EventDrivenStats` (what ``env.run_event_driven`` returns).
EpisodeStats = EventDrivenStats


class EpisodeAnalyzer:
    """Records what happens during an event-driven run (pass it to ``run_event_driven``).

    Every record is a copy taken when it happened. Rewards and terminations are
    always recorded; decisions (the observation vector the policy consumed and
    the action it chose), the state trajectory and the event log are optional.

    Args:
        record_decisions: keep each decision's observation and action vectors.
        record_states: keep ``env.state()`` after every simulation step (for plots).
        record_events: keep every event (the run's ``event_analyses`` and :meth:`get_event_log`).
        verbose: log every event at INFO level (logger ``"heron.scheduling"``).
        track_data: upstream HERON's switch for keeping everything: turns on ``record_decisions``
            and ``record_events`` (the state trajectory needs ``record_states=True`` too).
    """

    def __init__(
        self,
        record_decisions: bool = True,
        record_states: bool = False,
        record_events: bool = False,
        *,
        verbose: bool = False,
        track_data: bool = False,
    ) -> None:
        self.record_decisions = record_decisions or track_data
        self.record_states = record_states
        self.record_events = record_events or track_data
        self.verbose = verbose
        self.begin([], [])

    @property
    def watches_events(self) -> bool:
        """Whether the run must pass every event to :meth:`record_event`."""
        return self.record_events or self.verbose

    # ------------------------------------------------------------ recording
    def begin(self, agent_ids: Sequence[str], state_labels: Sequence[str]) -> None:
        """Forget earlier records (called when a run starts)."""
        self._rewards: dict[str, list[tuple[float, float]]] = {aid: [] for aid in agent_ids}
        self._terminations: list[tuple[float, str]] = []
        self._observations: dict[str, list[tuple[float, np.ndarray]]] = {}
        self._actions: dict[str, list[tuple[float, np.ndarray]]] = {}
        self._state_times: list[float] = []
        self._states: list[np.ndarray] = []
        self._events: list[EventAnalysis] = []
        self.state_labels = list(state_labels)

    def record_reward(self, agent_id: str, timestamp: float, reward: float) -> None:
        self._rewards[agent_id].append((timestamp, reward))

    def record_termination(self, agent_id: str, timestamp: float) -> None:
        self._terminations.append((timestamp, agent_id))

    def record_decision(
        self, agent_id: str, observed_at: float, observation: np.ndarray, decided_at: float, action: np.ndarray
    ) -> None:
        self._observations.setdefault(agent_id, []).append((observed_at, np.array(observation, copy=True)))
        self._actions.setdefault(agent_id, []).append((decided_at, np.array(action, copy=True)))

    def record_state(self, timestamp: float, state: np.ndarray) -> None:
        self._state_times.append(timestamp)
        self._states.append(np.array(state, copy=True))

    def record_event(self, event: Event) -> None:
        kind = event.event_type
        analysis = EventAnalysis(kind, event.timestamp, event.agent_id, _MESSAGE_TYPES.get(kind))
        if self.record_events:
            self._events.append(analysis)
        if self.verbose:
            logger.info("t=%.3f %s %s", analysis.timestamp, kind.value, analysis.agent_id or "")

    # -------------------------------------------------------------- reading
    def get_reward_history(self, agent_id: str | None = None) -> dict[str, list[tuple[float, float]]]:
        """``{agent_id: [(timestamp, reward), ...]}``: one entry per tick that closed a simulation step.

        With ``agent_id``, only that agent's entry.
        """
        if agent_id is None:
            return {aid: list(entries) for aid, entries in self._rewards.items()}
        if agent_id not in self._rewards:
            raise UnknownAgentError(f"no reward history for agent {agent_id!r}; agents are {list(self._rewards)}")
        return {agent_id: list(self._rewards[agent_id])}

    def get_termination_history(self) -> list[tuple[float, str]]:
        """``[(timestamp, agent_id), ...]`` in the order the agents terminated."""
        return list(self._terminations)

    def get_observation_history(self) -> dict[str, list[tuple[float, np.ndarray]]]:
        """``{agent_id: [(measured_at, vector), ...]}``: the vectors the policies consumed."""
        return {aid: list(entries) for aid, entries in self._observations.items()}

    def get_action_history(self) -> dict[str, list[tuple[float, np.ndarray]]]:
        """``{agent_id: [(decided_at, action_vector), ...]}``."""
        return {aid: list(entries) for aid, entries in self._actions.items()}

    def get_state_trajectory(self) -> tuple[np.ndarray, np.ndarray]:
        """``(times, states)``: states has one row per simulation step (needs ``record_states=True``)."""
        if not self.record_states:
            raise ConfigError("the state trajectory was not recorded: use EpisodeAnalyzer(record_states=True)")
        width = len(self.state_labels)
        states = np.array(self._states) if self._states else np.zeros((0, width), dtype=np.float32)
        return np.array(self._state_times), states

    def get_event_log(self) -> list[tuple[float, str, str | None]]:
        """``[(timestamp, event_type, agent_id), ...]`` (needs ``record_events=True``)."""
        return [(event.timestamp, event.event_type.value, event.agent_id) for event in self.event_analyses()]

    def event_analyses(self) -> list[EventAnalysis]:
        """Every event of the last run, in order (needs ``record_events=True``)."""
        if not self.record_events:
            raise ConfigError(_NOT_RECORDED)
        return list(self._events)

    def plot_state_trajectory(self, path: str | Path, keys: Sequence[str] | None = None) -> Path:
        """Plot state entries over time to a PNG; ``keys`` picks entries of :attr:`state_labels` (default: all)."""
        times, states = self.get_state_trajectory()
        keys = list(self.state_labels if keys is None else keys)
        unknown = [key for key in keys if key not in self.state_labels]
        if unknown:
            raise ConfigError(f"unknown state entries {unknown}; recorded entries are {self.state_labels}")
        with png_figure(path, "time", "state", legend=len(keys) <= 12) as ax:
            for key in keys:
                ax.plot(times, states[:, self.state_labels.index(key)], label=key)
        return Path(path)
