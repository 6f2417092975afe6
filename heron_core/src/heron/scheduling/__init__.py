"""Event-driven execution: evaluate any trained policy under realistic timing.

Training steps every agent together; here each agent ticks at its own rate,
and observations, actions and messages arrive after (optionally jittered)
delays. See :mod:`heron.scheduling.runner` for the timing semantics.

Example::

    from heron.scheduling import EpisodeAnalyzer, JitterType, ScheduleConfig

    cfg = ScheduleConfig.with_jitter(tick_interval=1.0, obs_delay=0.1, act_delay=0.2,
                                     jitter_type=JitterType.GAUSSIAN, jitter_ratio=0.1, seed=42)
    env.reset(seed=0, jitter_seed=0)
    env.set_agent_policies({"room_a": pol_a, "room_b": pol_b})
    stats = env.run_event_driven(t_end=100.0, episode_analyzer=EpisodeAnalyzer(), schedule=cfg)
"""

from heron.scheduling.analysis import EpisodeAnalyzer, EpisodeStats, EventAnalysis, EventDrivenStats
from heron.scheduling.event import Event, EventType
from heron.scheduling.interface import EventDrivenEnv
from heron.scheduling.runner import evaluate_event_driven, run_event_driven
from heron.scheduling.schedule_config import (
    DEFAULT_COORDINATOR_AGENT_SCHEDULE_CONFIG,
    DEFAULT_FIELD_AGENT_SCHEDULE_CONFIG,
    DEFAULT_SYSTEM_AGENT_SCHEDULE_CONFIG,
    JitterType,
    ScheduleConfig,
)
from heron.scheduling.scheduler import EventScheduler

__all__ = [
    "DEFAULT_COORDINATOR_AGENT_SCHEDULE_CONFIG",
    "DEFAULT_FIELD_AGENT_SCHEDULE_CONFIG",
    "DEFAULT_SYSTEM_AGENT_SCHEDULE_CONFIG",
    "EpisodeAnalyzer",
    "EpisodeStats",
    "Event",
    "EventAnalysis",
    "EventDrivenEnv",
    "EventDrivenStats",
    "EventScheduler",
    "EventType",
    "JitterType",
    "ScheduleConfig",
    "evaluate_event_driven",
    "run_event_driven",
]
