"""``HeronEnvRunner``: RLlib's multi-agent env runner that evaluates with HERON's event-driven simulation.

Example::

    config = (
        PPOConfig()
        .environment(env=RLlibBasedHeronEnv, env_config=env_config)
        .multi_agent(policies={"shared_policy"}, policy_mapping_fn=lambda aid, *a, **kw: "shared_policy")
        .env_runners(env_runner_cls=HeronEnvRunner)
        .evaluation(evaluation_interval=1, evaluation_duration=1, evaluation_duration_unit="episodes",
                    evaluation_config=HeronEnvRunner.evaluation_config(t_end=100.0))
    )

Training runners sample step by step exactly like ``MultiAgentEnvRunner``. An evaluation runner whose
config carries :meth:`HeronEnvRunner.evaluation_config` instead, on every ``sample()`` call:

1. builds the HERON env from ``env_config`` (once; closed by ``stop()``) and resets it (seeded from
   ``.debugging(seed=...)`` and the runner index when a seed is set);
2. wraps the runner's current RLModules and connector pipelines as HERON policies
   (:class:`~heron.adaptors.rllib_module_bridge.RLlibModuleBridge`: deterministic actions, RLlib's action
   rescaling and observation filter);
3. runs :func:`heron.scheduling.run_event_driven` up to ``t_end`` with the given schedule;
4. returns one ``MultiAgentEpisode`` per run with the run's real observations, actions and rewards
   (see :mod:`heron.adaptors._rllib_episodes`), after RLlib's ``on_episode_end`` callbacks.

Its metrics go through the runner's ``MetricsLogger`` under RLlib's own keys (``episode_return_mean``,
``agent_episode_returns_mean``, ``num_episodes``, ...) and under ``heron_event_driven`` (``num_events``,
``duration``, ``sim_steps``, ``team_return``, ``agent_returns``), so they appear in
``result["evaluation"]["env_runners"]`` and merge across evaluation runners like RLlib's own.

At construction every runner builds the env once and checks the ``policy_mapping_fn`` against the
configured modules, so a bad ``env_config`` or mapping is a :class:`~heron.core.errors.ConfigError`
from ``build_algo()``, with any number of env runners. (A remote runner that raised in its constructor
would be logged and dropped by RLlib 2.60's fault tolerance, which then fails with an ``IndexError``;
so a remote runner keeps its error, hands it over instead of its spaces, and the driver's local runner
raises it.)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from ray.rllib.callbacks.utils import make_callback
from ray.rllib.core import COMPONENT_ENV_TO_MODULE_CONNECTOR, COMPONENT_MODULE_TO_ENV_CONNECTOR
from ray.rllib.env.env_runner import EnvRunner
from ray.rllib.env.multi_agent_env_runner import MultiAgentEnvRunner
from ray.rllib.env.multi_agent_episode import MultiAgentEpisode
from ray.rllib.utils.metrics import (
    EPISODE_AGENT_RETURN_MEAN,
    EPISODE_DURATION_SEC_MEAN,
    EPISODE_LEN_MAX,
    EPISODE_LEN_MEAN,
    EPISODE_LEN_MIN,
    EPISODE_MODULE_RETURN_MEAN,
    EPISODE_RETURN_MAX,
    EPISODE_RETURN_MEAN,
    EPISODE_RETURN_MIN,
    NUM_AGENT_STEPS_SAMPLED,
    NUM_AGENT_STEPS_SAMPLED_LIFETIME,
    NUM_ENV_STEPS_SAMPLED,
    NUM_ENV_STEPS_SAMPLED_LIFETIME,
    NUM_EPISODES,
    NUM_EPISODES_LIFETIME,
)

from heron.adaptors._rllib_episodes import EventDrivenRecorder, event_driven_episode
from heron.adaptors._rllib_validation import check_policy_mapping
from heron.adaptors.rllib import RLlibBasedHeronEnv
from heron.adaptors.rllib_module_bridge import bridges_for
from heron.core.errors import ConfigError, HeronError
from heron.scheduling.analysis import EventDrivenStats
from heron.scheduling.runner import run_event_driven
from heron.scheduling.schedule_config import ScheduleConfig, coerce_schedule_config
from heron.utils.validation import check_number

__all__ = ["EVENT_DRIVEN_KEY", "HeronEnvRunner"]

EVENT_DRIVEN_KEY = "heron_event_driven"
"""The algorithm-config attribute :meth:`HeronEnvRunner.evaluation_config` sets, and the metrics key."""
_SETUP_ERROR_KEY = "__heron_setup_error__"
"""What a remote runner that could not set up returns from ``get_spaces()``: ``{_SETUP_ERROR_KEY: error}``."""
_RLLIB_ENV_ID = "rllib-multi-agent-env-v0"
"""The gymnasium id under which ``MultiAgentEnvRunner.make_env`` registers the env of every runner it builds."""


# Not in __all__ but keeps its name: it is stored in the algorithm config, which RLlib checkpoints pickle.
@dataclass(frozen=True)
class EventDrivenSettings:
    """How an evaluation runner runs HERON event-driven (see :func:`heron.scheduling.run_event_driven`).

    Attributes:
        t_end: simulated time of each run.
        schedule: ``None`` (the agents' own schedule configs), one ``ScheduleConfig`` for every agent,
            or ``{agent_id: ScheduleConfig or dict}``.
        sim_interval: time between simulation steps.
        seed: base seed of the evaluation episodes (each runner draws its episodes' env and jitter seeds
            from it); ``None`` uses the algorithm's ``.debugging(seed=...)``.
    """

    t_end: float
    schedule: Any = None
    sim_interval: float = 1.0
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("t_end", "sim_interval"):
            where = f"HeronEnvRunner.evaluation_config: {name}"
            object.__setattr__(self, name, check_number(getattr(self, name), where, minimum=0, exclusive_minimum=True))
        if self.seed is not None:
            where = "HeronEnvRunner.evaluation_config: seed"
            object.__setattr__(self, "seed", check_number(self.seed, where, minimum=0, integer=True))
        schedule = self.schedule
        if isinstance(schedule, Mapping):
            for aid, entry in schedule.items():
                coerce_schedule_config(entry, f"HeronEnvRunner.evaluation_config schedule[{aid!r}]")
        elif schedule is not None and not isinstance(schedule, ScheduleConfig):
            raise ConfigError(
                "HeronEnvRunner.evaluation_config: schedule must be None, a ScheduleConfig or "
                f"{{agent_id: ScheduleConfig}}, got {schedule!r}"
            )


def _is_heron_env(env: Any) -> bool:
    return isinstance(env, type) and issubclass(env, RLlibBasedHeronEnv)


def _check_setup(config: Any) -> None:
    """Build the env once and check the policy mapping (clear errors at ``build_algo()`` time)."""
    if not _is_heron_env(config.env):
        return
    env = config.env(config.env_config)
    try:
        check_policy_mapping(config.policy_mapping_fn, set(config.policies), env.possible_agents)
    finally:
        env.close()


_ENV_CHECK_MESSAGE = "does not abide to the new gymnasium-style API"


def _raise_user_error_of_env_check(exc: ValueError) -> None:
    """Re-raise the error RLlib's env pre-check wrapped in its generic message (a user's bug, as itself)."""
    cause = exc.__cause__
    if cause is not None and _ENV_CHECK_MESSAGE in str(exc):
        cause.add_note("(raised while RLlib's env check reset and stepped the env once)")
        raise cause


class HeronEnvRunner(MultiAgentEnvRunner):
    """A ``MultiAgentEnvRunner`` that evaluates event-driven when configured to (see module docs)."""

    def __init__(self, config: Any, **kwargs: Any) -> None:
        self._setup_error: HeronError | None = None
        self._event_env: RLlibBasedHeronEnv | None = None
        spaces = kwargs.get("spaces") or {}
        if _SETUP_ERROR_KEY in spaces:  # a remote runner could not set up: its error, raised on the driver
            raise spaces[_SETUP_ERROR_KEY]
        try:
            _check_setup(config)
        except HeronError as exc:
            if not kwargs.get("worker_index"):  # the local runner: raise right away
                raise
            EnvRunner.__init__(self, config=config, **kwargs)  # a remote one: keep it for get_spaces()
            self._setup_error = exc
            return
        try:
            super().__init__(config=config, **kwargs)
        except ValueError as exc:
            _raise_user_error_of_env_check(exc)
            raise
        self._event_seeds: np.random.Generator | None = None
        settings = getattr(config, EVENT_DRIVEN_KEY, None)
        base_seed = config.seed if settings is None or settings.seed is None else settings.seed
        if base_seed is not None:
            sequence = np.random.SeedSequence(base_seed, spawn_key=(self.worker_index or 0,))
            self._event_seeds = np.random.default_rng(sequence)

    @classmethod
    def evaluation_config(
        cls, t_end: float, schedule: Any = None, *, sim_interval: float = 1.0, seed: int | None = None
    ) -> dict[str, Any]:
        """The ``evaluation_config`` that makes evaluation runners run HERON event-driven up to ``t_end``.

        Args:
            t_end: simulated time of each evaluation run.
            schedule: ``None``, a ``ScheduleConfig`` for every agent, or ``{agent_id: ScheduleConfig}``.
            sim_interval: time between simulation steps (1.0: one training step).
            seed: base seed of the evaluation episodes (env resets and timing jitter); ``None`` uses the
                algorithm's ``.debugging(seed=...)``.
        """
        return {EVENT_DRIVEN_KEY: EventDrivenSettings(t_end, schedule, sim_interval, seed)}

    @property
    def event_driven(self) -> EventDrivenSettings | None:
        """This runner's event-driven settings (``None``: it samples step by step)."""
        settings = getattr(self.config, EVENT_DRIVEN_KEY, None)
        return settings if self.config.in_evaluation else None

    def make_env(self) -> None:
        """RLlib's ``make_env``; the previous runner's registration is removed first (no "Overriding" warning)."""
        gym.registry.pop(_RLLIB_ENV_ID, None)
        super().make_env()

    def assert_healthy(self) -> None:
        """Healthy, or set up with an error that :meth:`get_spaces` hands to the driver."""
        if self._setup_error is None:
            super().assert_healthy()

    def get_spaces(self) -> dict[str, Any]:
        """The spaces, or ``{_SETUP_ERROR_KEY: error}`` from a runner that could not set up."""
        if self._setup_error is not None:
            return {_SETUP_ERROR_KEY: self._setup_error}
        return super().get_spaces()

    # ---------------------------------------------------------------- sampling
    def sample(
        self,
        *,
        num_timesteps: int | None = None,
        num_episodes: int | None = None,
        explore: bool | None = None,
        random_actions: bool = False,
        force_reset: bool = False,
    ) -> list[MultiAgentEpisode]:
        """Step-based sampling, or event-driven runs on an evaluation runner configured for them."""
        if self._setup_error is not None:
            raise self._setup_error
        settings = self.event_driven
        if settings is None:
            return super().sample(
                num_timesteps=num_timesteps,
                num_episodes=num_episodes,
                explore=explore,
                random_actions=random_actions,
                force_reset=force_reset,
            )
        if random_actions:
            raise ConfigError("HeronEnvRunner: event-driven evaluation runs the trained policies, not random actions")
        episodes: list[MultiAgentEpisode] = []
        steps = 0
        while not episodes or (num_episodes is not None and len(episodes) < num_episodes) or (
            num_timesteps is not None and steps < num_timesteps
        ):
            episode = self._run_event_driven(settings)
            episodes.append(episode)
            steps += episode.env_steps()
        return episodes

    def _run_event_driven(self, settings: EventDrivenSettings) -> MultiAgentEpisode:
        if self._event_env is None:
            if not _is_heron_env(self.config.env):
                raise ConfigError(
                    f"HeronEnvRunner: event-driven evaluation needs env=RLlibBasedHeronEnv, got {self.config.env!r}"
                )
            self._event_env = self.config.env(self.config.env_config)
        env = self._event_env
        components = dict(self.get_checkpointable_components())
        policies = bridges_for(
            env,
            self.config.policy_mapping_fn,
            {mid: self.module[mid] for mid in self.module.keys()},
            components[COMPONENT_ENV_TO_MODULE_CONNECTOR],
            components[COMPONENT_MODULE_TO_ENV_CONNECTOR],
        )
        seed = None if self._event_seeds is None else int(self._event_seeds.integers(2**31))
        env.heron_env.reset(seed=seed)
        recorder = EventDrivenRecorder(env)
        stats = run_event_driven(
            env.heron_env, policies, settings.t_end, recorder,
            schedule=settings.schedule, sim_interval=settings.sim_interval,
        )
        episode = event_driven_episode(env, recorder, stats, self.config.policy_mapping_fn)
        make_callback(
            "on_episode_end",
            callbacks_objects=self._callbacks,
            callbacks_functions=self.config.callbacks_on_episode_end,
            kwargs=dict(
                episode=episode, prev_episode_chunks=[], env_runner=self, metrics_logger=self.metrics,
                env=env, rl_module=self.module, env_index=0,
            ),
        )
        self._log_event_driven(episode, stats)
        if self.config.episodes_to_numpy:
            episode.to_numpy()
        return episode

    def _log_event_driven(self, episode: MultiAgentEpisode, stats: EventDrivenStats) -> None:
        """Log the run as RLlib logs a finished episode, plus HERON's event-driven totals."""
        metrics = self.metrics
        length = episode.env_steps()
        metrics.log_value(NUM_ENV_STEPS_SAMPLED, length, reduce="sum")
        metrics.log_value(NUM_ENV_STEPS_SAMPLED_LIFETIME, length, reduce="lifetime_sum", with_throughput=True)
        metrics.log_value(NUM_EPISODES, 1, reduce="sum")
        metrics.log_value(NUM_EPISODES_LIFETIME, 1, reduce="lifetime_sum")
        agent_returns: dict[str, float] = {}
        module_returns: dict[str, float] = {}
        for aid, agent_episode in episode.agent_episodes.items():
            metrics.log_value((NUM_AGENT_STEPS_SAMPLED, str(aid)), len(agent_episode), reduce="sum")
            metrics.log_value((NUM_AGENT_STEPS_SAMPLED_LIFETIME, str(aid)), len(agent_episode), reduce="lifetime_sum")
            agent_returns[str(aid)] = float(agent_episode.get_return())
            mid = agent_episode.module_id
            module_returns[mid] = module_returns.get(mid, 0.0) + agent_returns[str(aid)]
        window = max(1, math.ceil(self.config.metrics_num_episodes_for_smoothing / (self.config.num_env_runners or 1)))
        episode_return = float(episode.get_return())
        metrics.log_dict(
            {
                EPISODE_LEN_MEAN: length,
                EPISODE_RETURN_MEAN: episode_return,
                EPISODE_DURATION_SEC_MEAN: stats.wall_time_s,
                EPISODE_AGENT_RETURN_MEAN: agent_returns,
                EPISODE_MODULE_RETURN_MEAN: module_returns,
            },
            window=window,
        )
        metrics.log_dict({EPISODE_LEN_MIN: length, EPISODE_RETURN_MIN: episode_return}, reduce="min", window=window)
        metrics.log_dict({EPISODE_LEN_MAX: length, EPISODE_RETURN_MAX: episode_return}, reduce="max", window=window)
        metrics.log_dict(
            {
                "num_events": stats.num_events,
                "duration": stats.duration,
                "sim_steps": stats.sim_steps,
                "team_return": stats.team_return,
                "agent_returns": {aid: stats.agent_returns[aid] for aid in stats.acting_agents},
            },
            key=EVENT_DRIVEN_KEY,
            window=window,
        )

    def stop(self) -> None:
        """Close the step-based envs and the event-driven env."""
        if self._setup_error is None:
            super().stop()
        if self._event_env is not None:
            self._event_env.close()
            self._event_env = None
