"""A run's learning-curve PNG: team return per episode and its moving average."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from heron.training.experiment import SUMMARY_WINDOW
from heron.utils._plotting import png_figure

__all__ = ["plot_learning_curves"]


def plot_learning_curves(
    path: str | Path,
    curves: Mapping[str, Sequence[float]],
    reference: Mapping[str, float] | None = None,
    window: int = SUMMARY_WINDOW,
) -> None:
    """Team return per episode (faint) and its ``window``-episode moving average, one colour per curve.

    Args:
        path: the PNG to write.
        curves: team returns of each episode, by label (e.g. ``"ippo (manual)"``).
        reference: horizontal lines, by label (e.g. a reference controller's return).
        window: the moving average's width.
    """
    with png_figure(path, "episode", f"team return ({window}-episode moving average)") as ax:
        for index, (label, values) in enumerate(curves.items()):
            returns = np.asarray(values, dtype=np.float64)
            colour = f"C{index}"
            episodes = np.arange(1, returns.size + 1)
            ax.plot(episodes, returns, color=colour, alpha=0.25, linewidth=0.8)
            if returns.size >= window:
                moving = np.convolve(returns, np.ones(window) / window, mode="valid")
                ax.plot(episodes[window - 1 :], moving, color=colour, label=label)
            else:
                ax.plot(episodes, returns, color=colour, label=label)
        for label, value in (reference or {}).items():
            ax.axhline(value, color="k", linestyle="--", linewidth=1, label=label)
