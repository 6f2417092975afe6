"""Run folders: a fresh directory per run, its metrics CSV and its learning-curve PNG."""

from __future__ import annotations

import csv
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from heron.training.experiment import SUMMARY_WINDOW, TrainingResult
from heron.utils._plotting import png_figure

__all__ = ["new_run_dir", "plot_learning_curves", "write_metrics_csv"]

def new_run_dir(root: str | Path, name: str) -> Path:
    """Create ``root/<timestamp>-<name>`` (with a suffix if it exists) and return it."""
    base = Path(root) / f"{time.strftime('%Y%m%d-%H%M%S')}-{name}"
    path, suffix = base, 1
    while path.exists():
        suffix += 1
        path = base.with_name(f"{base.name}-{suffix}")
    path.mkdir(parents=True)
    return path


def write_metrics_csv(path: str | Path, results: Sequence[TrainingResult]) -> None:
    """One row per episode: backend, algorithm, episode, env_steps, team return, then each agent's return."""
    agent_ids = sorted({aid for result in results for record in result.episodes for aid in record.agent_returns})
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["backend", "algorithm", "episode", "env_steps", "team_return", *agent_ids])
        for result in results:
            for record in result.episodes:
                writer.writerow(
                    [result.backend, result.algorithm, record.episode, record.env_steps, f"{record.team_return:.6f}"]
                    + [f"{record.agent_returns.get(aid, float('nan')):.6f}" for aid in agent_ids]
                )


def plot_learning_curves(
    path: str | Path,
    results: Sequence[TrainingResult],
    reference: Mapping[str, float] | None = None,
    window: int = SUMMARY_WINDOW,
) -> None:
    """Team return per episode (faint) and its moving average, one colour per run."""
    with png_figure(path, "episode", f"team return ({window}-episode moving average)") as ax:
        for index, result in enumerate(results):
            returns = np.asarray(result.returns)
            colour = f"C{index}"
            episodes = np.arange(1, returns.size + 1)
            ax.plot(episodes, returns, color=colour, alpha=0.25, linewidth=0.8)
            label = f"{result.algorithm} ({result.backend})"
            if returns.size >= window:
                moving = np.convolve(returns, np.ones(window) / window, mode="valid")
                ax.plot(episodes[window - 1 :], moving, color=colour, label=label)
            else:
                ax.plot(episodes, returns, color=colour, label=label)
        for label, value in (reference or {}).items():
            ax.axhline(value, color="k", linestyle="--", linewidth=1, label=label)
