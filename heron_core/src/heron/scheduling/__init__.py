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

from heron.scheduling.analysis import EpisodeAnalyzer, EventDrivenStats
from heron.scheduling.config import DEFAULT_SCHEDULES, MIN_TICK_FACTOR, JitterType, ScheduleConfig
from heron.scheduling.events import DEFAULT_PRIORITY, Event, EventScheduler, EventType
from heron.scheduling.robustness import (
    SWEEP_PARAMETERS,
    SweepResult,
    event_driven_returns,
    plot_sweep,
    robustness_sweep,
    sync_reference,
    write_sweep_csv,
)
from heron.scheduling.runner import (
    EventDrivenRun,
    evaluate_event_driven,
    jitter_streams,
    resolve_schedules,
    run_event_driven,
)

__all__ = [
    "DEFAULT_PRIORITY",
    "DEFAULT_SCHEDULES",
    "MIN_TICK_FACTOR",
    "SWEEP_PARAMETERS",
    "EpisodeAnalyzer",
    "Event",
    "EventDrivenRun",
    "EventDrivenStats",
    "EventScheduler",
    "EventType",
    "JitterType",
    "ScheduleConfig",
    "SweepResult",
    "evaluate_event_driven",
    "event_driven_returns",
    "jitter_streams",
    "plot_sweep",
    "resolve_schedules",
    "robustness_sweep",
    "run_event_driven",
    "sync_reference",
    "write_sweep_csv",
]
