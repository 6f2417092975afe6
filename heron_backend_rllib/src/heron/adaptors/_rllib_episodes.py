"""An event-driven HERON run as an RLlib ``MultiAgentEpisode`` with its real data.

:class:`EventDrivenRecorder` (an :class:`~heron.scheduling.EpisodeAnalyzer`) records every decision
(the observation the policy consumed and the action it chose), every reward delivery, the global state
after each simulation step, and the observation of agents when they terminate.
:func:`event_driven_episode` then lays the run out on RLlib's multi-agent timeline:

* the env steps of the episode are the distinct times at which an agent measured an observation, then
  the times agents terminated, then the end of the run;
* an agent appears in a step's observations when it measured one at that time (agents tick at their
  own rates, so not every agent observes at every step); the action it chose from that observation is
  the step's action in the next env step, as RLlib expects;
* a step's reward of an agent is what it was delivered since the previous step (RLlib adds rewards of
  steps the agent did not observe to its next transition);
* every agent gets a final observation: the one measured when it terminated, or the env's state at the
  end of the run (a decision measured at the very end becomes that final observation, since its action
  never took effect); the episode ends terminated when every agent terminated, else truncated.

Observations are in the format of :class:`~heron.adaptors.rllib.RLlibBasedHeronEnv` (the global state
of the moment included when it uses ``global_state``); actions are those applied to the env.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from ray.rllib.env.multi_agent_episode import MultiAgentEpisode

from heron.adaptors.rllib import RLlibBasedHeronEnv
from heron.core.action import Action
from heron.scheduling.analysis import EpisodeAnalyzer, EventDrivenStats


class EventDrivenRecorder(EpisodeAnalyzer):
    """Records what :func:`event_driven_episode` needs from a run on ``env``'s HERON env."""

    def __init__(self, env: RLlibBasedHeronEnv) -> None:
        self.env = env
        super().__init__(record_decisions=True, record_states=env.global_state)

    def begin(self, agent_ids: Sequence[str], state_labels: Sequence[str]) -> None:
        super().begin(agent_ids, state_labels)
        self.initial_state = self.env.heron_env.state()
        self.terminal_observations: dict[str, Any] = {}

    def record_termination(self, agent_id: str, timestamp: float) -> None:
        super().record_termination(agent_id, timestamp)
        self.terminal_observations[agent_id] = self.env.current_observation(agent_id)

    def state_at(self, timestamp: float) -> np.ndarray | None:
        """The global state an observation measured at ``timestamp`` saw (``None`` when not recorded)."""
        if not self.record_states:
            return None
        times, states = self.get_state_trajectory()
        index = bisect.bisect_right(times.tolist(), timestamp)
        return self.initial_state if index == 0 else states[index - 1]


def event_driven_episode(
    env: RLlibBasedHeronEnv,
    recorder: EventDrivenRecorder,
    stats: EventDrivenStats,
    policy_mapping_fn: Callable[..., str] | None = None,
) -> MultiAgentEpisode:
    """The finished episode of a run on ``env`` that ``recorder`` watched (see module docs)."""
    end = float(stats.duration)
    agents = list(stats.acting_agents)
    templates = {aid: Action.from_space(env.action_spaces[aid], owner=aid) for aid in agents}
    observations = recorder.get_observation_history()
    actions = recorder.get_action_history()
    rewards = recorder.get_reward_history()

    # what each agent observes at a time: (observation, action chosen from it or None for a final one)
    seen: dict[float, dict[str, tuple[Any, Any]]] = {}
    for aid in agents:
        for (measured, vector), (_, action) in zip(observations.get(aid, []), actions.get(aid, [])):
            if measured < end:
                obs = env.observation_from(aid, vector, recorder.state_at(measured))
                seen.setdefault(measured, {})[aid] = (obs, templates[aid].copy().set_values(action).to_space_value())
    terminated_at = {aid: float(t) for aid, t in stats.terminated.items()}
    for aid, when in terminated_at.items():
        seen.setdefault(when, {})[aid] = (recorder.terminal_observations[aid], None)
    alive = [aid for aid in agents if aid not in terminated_at]
    for aid in alive:
        seen.setdefault(end, {})[aid] = (env.current_observation(aid), None)

    episode = MultiAgentEpisode(
        observation_space={aid: env.observation_spaces[aid] for aid in agents},
        action_space={aid: env.action_spaces[aid] for aid in agents},
        agent_to_module_mapping_fn=policy_mapping_fn,
    )
    times = sorted(seen)
    first = seen[times[0]]
    episode.add_env_reset(observations={aid: obs for aid, (obs, _) in first.items()}, infos={aid: {} for aid in first})
    waiting = {aid: action for aid, (_, action) in first.items() if action is not None}
    previous = times[0]
    for now in times[1:]:
        step = seen[now]
        last = now == times[-1]
        terminateds = {aid: True for aid, when in terminated_at.items() if when == now}
        truncateds = {aid: True for aid in alive} if last else {}
        delivered = _delivered(rewards, agents, previous, now)
        for aid in step.keys() & waiting.keys():  # a tick that closed no simulation step earned nothing
            delivered.setdefault(aid, 0.0)
        episode.add_env_step(
            observations={aid: obs for aid, (obs, _) in step.items()},
            actions=waiting,
            rewards=delivered,
            infos={aid: {} for aid in step},
            terminateds={**terminateds, "__all__": last and not alive},
            truncateds={**truncateds, "__all__": last and bool(alive)},
        )
        waiting = {aid: action for aid, (_, action) in step.items() if action is not None}
        previous = now
    episode.validate()
    return episode


def _delivered(
    history: dict[str, list[tuple[float, float]]], agents: Sequence[str], after: float, until: float
) -> dict[str, float]:
    """Each agent's rewards delivered in ``(after, until]`` (agents without any are left out)."""
    out = {}
    for aid in agents:
        entries = [reward for when, reward in history.get(aid, []) if after < when <= until]
        if entries:
            out[aid] = float(sum(entries))
    return out
