"""Evaluating trained policies: synchronous episodes and robustness sweeps under realistic timing.

Example::

    from heron.evaluation import evaluate_policies, robustness_sweep
    returns = evaluate_policies(env, policies, episodes=10, seed=0)
    sweep = robustness_sweep(env, policies, "obs_delay", [0, 0.5, 1, 2], episodes=5)
"""

from heron.evaluation.episodes import evaluate_policies, run_episode
from heron.evaluation.robustness import (
    SWEEP_PARAMETERS,
    SweepResult,
    plot_sweep,
    robustness_sweep,
    sync_reference,
    write_sweep_csv,
)

__all__ = [
    "SWEEP_PARAMETERS",
    "SweepResult",
    "evaluate_policies",
    "plot_sweep",
    "robustness_sweep",
    "run_episode",
    "sync_reference",
    "write_sweep_csv",
]
