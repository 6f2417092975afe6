"""Event-driven runs of a HERON env (any object with the :class:`EventDrivenEnv` interface).

The run reuses the env's own step pieces (``observe``, ``apply_actions``,
``simulate``, ``compute_rewards``), so a policy sees exactly the observation
vectors it sees in ``env.step`` and actions reach the plant the same way.

Time and the simulation
    One synchronous step is one time unit. The simulation advances on its own
    fixed clock, every ``sim_interval`` (default 1.0, one training step), at
    ``t = sim_interval, 2 * sim_interval, ...`` up to ``t_end``, whatever the
    agents do: each simulation step applies the actions in effect at that
    moment (an action holds until the next one takes effect). A delay
    therefore matters through the simulation steps it spans. (Upstream HERON
    instead steps its physics once per system-agent tick; here the system
    agent's tick only sets when it collects its reward.)

The cascade of an agent (each arrow is an event)
    ``AGENT_TICK`` at ``t``: the agent collects the reward of the simulation
    steps since its previous tick (one reward entry per tick that closed at
    least one step), and an acting agent measures its observation
    (``env.observe``); the next tick follows after ``tick_interval``.
    ``OBSERVATION_READY`` after ``obs_delay``: the policy maps the measured
    observation to an action. ``ACTION_EFFECT`` after ``act_delay``: the
    action is applied (``env.apply_actions``). An agent with a protocol
    instead sends it to its subordinates: ``MESSAGE_DELIVERY`` after
    ``msg_delay`` applies it, and the protocol splits it into the
    subordinates' actions. ``SIMULATION`` steps run on their own clock
    (above); at equal timestamps they come first.

Agents
    Every agent ticks (field agents, coordinators, the system agent), so each
    earns rewards at its own rate; only the acting agents (``env.agents``)
    observe and act, and each needs a policy. Agents controlled by a
    coordinator's protocol need none.

Episode end
    The run covers ``[0, t_end]``; the env's ``max_steps`` truncation is a
    training notion and does not stop it. It ends early when every acting
    agent has terminated (``is_terminated`` is checked after each simulation
    step; a terminated agent stops ticking and gets its last reward then),
    or after ``max_events`` events when given (then at the last event's time).
    At the end every agent receives what it earned since its last tick, so
    each agent's return covers every simulation step of the run. With zero
    delays, ``tick_interval=1`` for every agent, no jitter and
    ``t_end = N``, the returns equal those of ``N`` synchronous steps.

Jitter streams
    Each agent draws its jitter from four independent streams (tick, obs,
    act, msg) derived from a seed and a hash of its id: the run's
    ``jitter_seed`` (``env.reset(jitter_seed=...)``) when given, else the
    agent's ``ScheduleConfig.seed``, else the env's generator (seeded by
    ``env.reset(seed=...)``). The seed only picks streams: each agent's own
    jitter settings always apply.
"""

from __future__ import annotations

import copy
import hashlib
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from heron.core._flatten import flatten
from heron.core.action import Action
from heron.core.errors import ActionError, ConfigError, EnvNotResetError, UnknownAgentError
from heron.core.policies import Policy
from heron.scheduling.analysis import EpisodeAnalyzer, EventDrivenStats
from heron.scheduling.event import Event, EventType
from heron.scheduling.interface import EventDrivenEnv
from heron.scheduling.schedule_config import ScheduleConfig, coerce_schedule_config
from heron.scheduling.scheduler import EventScheduler
from heron.utils.validation import check_number

__all__ = ["EventDrivenRun", "evaluate_event_driven", "resolve_schedules", "run_event_driven"]


def resolve_schedules(env: EventDrivenEnv, schedule: Any = None) -> dict[str, ScheduleConfig]:
    """Every agent's ScheduleConfig.

    ``schedule`` is ``None`` (each agent's ``schedule_config``), one ``ScheduleConfig`` for every agent, or
    ``{agent_id: ScheduleConfig or dict}`` replacing the listed agents' configs.
    """
    overrides: Mapping[str, Any] = {}
    if isinstance(schedule, ScheduleConfig):
        overrides = dict.fromkeys(env.all_agents, schedule)
    elif isinstance(schedule, Mapping):
        unknown = [aid for aid in schedule if aid not in env.all_agents]
        if unknown:
            raise UnknownAgentError(
                f"schedule names unknown agent(s) {unknown}; agents of env {env.env_id!r} are {list(env.all_agents)}"
            )
        overrides = schedule
    elif schedule is not None:
        raise ConfigError(f"schedule must be None, a ScheduleConfig or {{agent_id: ScheduleConfig}}, got {schedule!r}")
    configs: dict[str, ScheduleConfig] = {}
    for aid, agent in env.all_agents.items():
        if aid in overrides:
            configs[aid] = coerce_schedule_config(overrides[aid], f"schedule[{aid!r}]")
        else:
            configs[aid] = coerce_schedule_config(agent.schedule_config, f"agent {aid!r} schedule_config")
    return configs


def _agent_key(agent_id: str) -> tuple[int, ...]:
    digest = hashlib.sha256(agent_id.encode()).digest()
    return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))


def _jitter_streams(seed: int, agent_id: str) -> tuple[np.random.Generator, ...]:
    """The agent's independent (tick, obs, act, msg) generators for ``seed``."""
    sequence = np.random.SeedSequence(int(seed), spawn_key=_agent_key(agent_id))
    return tuple(np.random.default_rng(child) for child in sequence.spawn(4))


class _Timing:
    """One agent's schedule and jitter streams."""

    __slots__ = ("act_rng", "config", "msg_rng", "obs_rng", "tick_rng")

    def __init__(self, config: ScheduleConfig, streams: tuple[np.random.Generator, ...] | None) -> None:
        self.config = config
        self.tick_rng, self.obs_rng, self.act_rng, self.msg_rng = streams or (None, None, None, None)

    def tick_interval(self) -> float:
        return self.config.sample_tick_interval(self.tick_rng)

    def obs_delay(self) -> float:
        return self.config.sample_delay(self.config.obs_delay, self.obs_rng)

    def act_delay(self) -> float:
        return self.config.sample_delay(self.config.act_delay, self.act_rng)

    def msg_delay(self) -> float:
        return self.config.sample_delay(self.config.msg_delay, self.msg_rng)


def _state_labels(env: EventDrivenEnv) -> list[str]:
    """``agent.feature.field`` (with ``[i]`` for vector fields) for each entry of ``env.state()``."""
    labels: list[str] = []
    for aid, features in env.simulation_state().items():
        for feature_name, fields in features.items():
            for field_name, value in fields.items():
                key = f"{aid}.{feature_name}.{field_name}"
                size = int(np.size(value))
                labels.extend([key] if np.ndim(value) == 0 else [f"{key}[{i}]" for i in range(size)])
    if len(labels) != env.state_space.shape[0]:
        raise ConfigError(
            f"env {env.env_id!r}: cannot label the {env.state_space.shape[0]} state entries "
            f"(nested feature fields give {len(labels)} labels); record_states needs flat numeric fields"
        )
    return labels


class EventDrivenRun:
    """One event-driven run (see the module docs); build it, then call :meth:`run` once.

    Args:
        env: the env, just reset.
        policies: ``{agent_id: Policy}`` for every acting agent.
        t_end: simulated time to cover.
        analyzer: records rewards, decisions, states and events (optional).
        schedule: see :func:`resolve_schedules`.
        sim_interval: time between simulation steps.
        jitter_seed: the run's jitter seed (default: the one given to ``env.reset``).
        max_events: stop after this many events (default: no limit).
    """

    def __init__(
        self,
        env: EventDrivenEnv,
        policies: Mapping[str, Policy],
        t_end: float,
        analyzer: EpisodeAnalyzer | None = None,
        schedule: Any = None,
        sim_interval: float = 1.0,
        jitter_seed: int | None = None,
        max_events: int | None = None,
    ) -> None:
        if env.step_count != 0 or list(env.agents) != list(env.possible_agents):
            raise EnvNotResetError(
                f"env {env.env_id!r}: call reset() before an event-driven run (it starts at time 0)"
            )
        if analyzer is not None and not isinstance(analyzer, EpisodeAnalyzer):
            raise ConfigError(f"episode_analyzer must be an EpisodeAnalyzer, got {type(analyzer).__name__}")
        self.env = env
        self.policies = env.check_policies(policies)
        self.t_end = check_number(t_end, "t_end", minimum=0, exclusive_minimum=True)
        self.sim_interval = check_number(sim_interval, "sim_interval", minimum=0, exclusive_minimum=True)
        if max_events is not None:
            max_events = check_number(max_events, "max_events", minimum=1, integer=True)
        self.max_events = max_events
        self.analyzer = analyzer
        seed = env.jitter_seed if jitter_seed is None else jitter_seed
        if seed is not None:
            seed = check_number(seed, "jitter_seed", minimum=0, integer=True)
        self.timing = self._timings(resolve_schedules(env, schedule), seed)
        self.acting = list(env.possible_agents)
        self.senders = {
            aid for aid in self.acting if env.agent(aid).protocol is not None and env.agent(aid).subordinates
        }
        self.acting_agents = [env.agent(aid) for aid in self.acting]
        self.scheduler = EventScheduler()
        self.alive = list(env.all_agents)
        self.pending = dict.fromkeys(env.all_agents, 0.0)
        self.pending_steps = dict.fromkeys(env.all_agents, 0)
        self.returns = dict.fromkeys(env.all_agents, 0.0)
        self.terminated: dict[str, float] = {}
        self.sim_steps = 0
        self.reward_reports = 0

    def _timings(self, configs: Mapping[str, ScheduleConfig], run_seed: int | None) -> dict[str, _Timing]:
        env_seed: int | None = None
        timings = {}
        for aid, config in configs.items():
            streams = None
            if config.jittered:
                seed = run_seed if run_seed is not None else config.seed
                if seed is None:
                    if env_seed is None:
                        env_seed = int(self.env.np_random.integers(2**63))
                    seed = env_seed
                streams = _jitter_streams(seed, aid)
            timings[aid] = _Timing(config, streams)
        return timings

    # ------------------------------------------------------------ handlers
    def _deliver_reward(self, aid: str, timestamp: float) -> None:
        if self.pending_steps[aid]:
            reward = self.pending[aid]
            self.returns[aid] += reward
            self.pending[aid] = 0.0
            self.pending_steps[aid] = 0
            self.reward_reports += 1
            if self.analyzer is not None:
                self.analyzer.record_reward(aid, timestamp, reward)

    def _on_tick(self, event: Event) -> None:
        aid, now = event.agent_id, event.timestamp
        if aid in self.terminated:
            return
        self._deliver_reward(aid, now)
        timing = self.timing[aid]
        if aid in self.policies:
            self.env.timestamp = now
            observation = self.env.observe(aid)
            self.scheduler.schedule(now + timing.obs_delay(), EventType.OBSERVATION_READY, aid, observation)
        next_tick = now + timing.tick_interval()
        if next_tick <= self.t_end:
            self.scheduler.schedule(next_tick, EventType.AGENT_TICK, aid)

    def _on_observation(self, event: Event) -> None:
        aid, now, observation = event.agent_id, event.timestamp, event.payload
        if aid in self.terminated:
            return
        policy = self.policies[aid]
        action = _snapshot(policy.forward(observation), aid)
        if self.analyzer is not None and self.analyzer.record_decisions:
            vector = observation.vector_for(policy.observation_mode)
            action_vector = flatten(action, f"action of agent {aid!r}") if isinstance(action, Mapping) else action
            self.analyzer.record_decision(aid, observation.timestamp, vector, now, action_vector)
        self.scheduler.schedule(now + self.timing[aid].act_delay(), EventType.ACTION_EFFECT, aid, action)

    def _on_action_effect(self, event: Event) -> None:
        aid = event.agent_id
        if aid in self.senders:
            delivery = event.timestamp + self.timing[aid].msg_delay()
            self.scheduler.schedule(delivery, EventType.MESSAGE_DELIVERY, aid, event.payload)
        else:
            self.env.apply_actions({aid: event.payload})

    def _on_message(self, event: Event) -> None:
        self.env.apply_actions({event.agent_id: event.payload})

    def _on_simulation(self, event: Event) -> None:
        now, env = event.timestamp, self.env
        env.simulate()
        rewards = env.compute_rewards()
        self.sim_steps += 1
        env.step_count = self.sim_steps
        env.timestamp = now
        pending, pending_steps = self.pending, self.pending_steps
        for aid in self.alive:
            pending[aid] += rewards[aid]
            pending_steps[aid] += 1
        for agent in self.acting_agents:
            if agent.agent_id not in self.terminated and agent.is_terminated(agent.local_state()):
                self._terminate(agent.agent_id, now)
        if self.analyzer is not None and self.analyzer.record_states:
            self.analyzer.record_state(now, env.state())
        next_step = (self.sim_steps + 1) * self.sim_interval
        if next_step <= self.t_end:
            self.scheduler.schedule(next_step, EventType.SIMULATION)

    def _terminate(self, aid: str, now: float) -> None:
        self.terminated[aid] = now
        self._deliver_reward(aid, now)
        self.alive.remove(aid)
        if self.analyzer is not None:
            self.analyzer.record_termination(aid, now)
        if len(self.terminated) == len(self.acting):
            self.scheduler.stop()

    # ----------------------------------------------------------------- run
    def run(self) -> EventDrivenStats:
        """Process the events up to ``t_end`` and return the totals."""
        if self.scheduler.processed or self.sim_steps:
            raise EnvNotResetError(
                f"env {self.env.env_id!r}: this EventDrivenRun already ran ({self.scheduler.processed} events); "
                "build a new one (after env.reset) for another run"
            )
        start = time.perf_counter()
        env, scheduler = self.env, self.scheduler
        for policy in self.policies.values():
            policy.reset()
        analyzer = self.analyzer
        if analyzer is not None:
            analyzer.begin(list(env.all_agents), _state_labels(env) if analyzer.record_states else [])
        for aid in env.all_agents:
            scheduler.schedule(0.0, EventType.AGENT_TICK, aid)
        if self.sim_interval <= self.t_end:
            scheduler.schedule(self.sim_interval, EventType.SIMULATION)
        handlers = {
            EventType.AGENT_TICK: self._on_tick,
            EventType.OBSERVATION_READY: self._on_observation,
            EventType.ACTION_EFFECT: self._on_action_effect,
            EventType.MESSAGE_DELIVERY: self._on_message,
            EventType.SIMULATION: self._on_simulation,
        }
        if analyzer is not None and analyzer.watches_events:
            handlers = {kind: _logged(handler, analyzer) for kind, handler in handlers.items()}
        ran = scheduler.run_until(self.t_end, handlers, self.max_events)
        end = scheduler.now if self._ended_early(ran) else self.t_end
        for aid in list(self.alive):
            self._deliver_reward(aid, end)
        env.timestamp = end
        return self._stats(end, time.perf_counter() - start)

    def _ended_early(self, ran: int) -> bool:
        """Whether every acting agent terminated, or ``max_events`` cut the run before ``t_end``."""
        if len(self.terminated) == len(self.acting):
            return True
        next_event = self.scheduler.peek()
        return ran == self.max_events and next_event is not None and next_event.timestamp <= self.t_end

    def _stats(self, end: float, wall_time_s: float) -> EventDrivenStats:
        scheduler, analyzer = self.scheduler, self.analyzer
        return EventDrivenStats(
            num_events=scheduler.processed,
            events_by_type={kind.value: count for kind, count in scheduler.counts.items()},
            duration=end,
            sim_steps=self.sim_steps,
            agent_returns=dict(self.returns),
            acting_agents=list(self.acting),
            terminated=dict(self.terminated),
            pending_events=len(scheduler),
            wall_time_s=wall_time_s,
            events_by_agent={aid: count for aid, count in scheduler.agent_counts.items() if aid is not None},
            reward_reports=self.reward_reports,
            timeline=analyzer.event_analyses() if analyzer is not None and analyzer.record_events else None,
        )


def _snapshot(chosen: Any, agent_id: str) -> Any:
    """A copy of a policy's action taken at decision time (the policy may reuse what it returned).

    An :class:`Action` becomes its flat vector, a ``{"c", "d"}`` mapping is deep-copied,
    anything else becomes a float array; ``env.apply_actions`` validates all three.
    """
    if isinstance(chosen, Action):
        return chosen.vector()
    if isinstance(chosen, Mapping):
        return copy.deepcopy(chosen)
    try:
        return np.array(chosen, dtype=np.float64)
    except (TypeError, ValueError):
        raise ActionError(
            f"the policy of agent {agent_id!r} returned {chosen!r}, which is not an action; "
            "expected an Action, a {'c': ..., 'd': ...} dict or a numeric vector"
        ) from None


def _logged(handler: Any, analyzer: EpisodeAnalyzer) -> Any:
    def run(event: Event) -> None:
        analyzer.record_event(event)
        handler(event)

    return run


def run_event_driven(
    env: EventDrivenEnv,
    policies: Mapping[str, Policy] | None,
    t_end: float,
    episode_analyzer: EpisodeAnalyzer | None = None,
    *,
    schedule: Any = None,
    sim_interval: float = 1.0,
    jitter_seed: int | None = None,
    max_events: int | None = None,
) -> EventDrivenStats:
    """Run the just-reset ``env`` event-driven up to ``t_end`` (see the module docs)."""
    return EventDrivenRun(env, policies, t_end, episode_analyzer, schedule, sim_interval, jitter_seed, max_events).run()


def evaluate_event_driven(
    env: EventDrivenEnv,
    policies: Mapping[str, Policy],
    t_end: float | None = None,
    seed: int | None = 0,
    *,
    jitter_seed: int | None = None,
    schedule: Any = None,
    sim_interval: float = 1.0,
    episode_analyzer: EpisodeAnalyzer | None = None,
) -> EventDrivenStats:
    """Reset ``env`` with ``seed``/``jitter_seed`` and run ``policies`` event-driven.

    ``t_end`` defaults to one training episode: ``env.max_steps * sim_interval``.
    ``jitter_seed`` defaults to ``seed``, so one seed fixes the whole run.
    """
    env.reset(seed=seed, jitter_seed=seed if jitter_seed is None else jitter_seed)
    env.set_agent_policies(policies)
    if t_end is None:
        t_end = env.max_steps * check_number(sim_interval, "sim_interval", minimum=0, exclusive_minimum=True)
    return env.run_event_driven(t_end, episode_analyzer, schedule=schedule, sim_interval=sim_interval)
