"""One way to draw and save the PNGs HERON writes (matplotlib, Agg backend)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def png_figure(
    path: str | Path, xlabel: str, ylabel: str, figsize: tuple[float, float] = (8, 4.5), legend: bool = True
) -> Iterator[Any]:
    """Yield a matplotlib ``Axes``; on exit label it, add a grid (and a legend), and save it to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize)
    try:
        yield ax
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if legend:
            ax.legend()
        fig.tight_layout()
        fig.savefig(Path(path), dpi=120)
    finally:
        plt.close(fig)
