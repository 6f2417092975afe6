"""Helpers shared by the benchmark scripts: machine description, timing and Markdown tables.

Every benchmark module exposes ``report(quick: bool = False) -> str``, a
Markdown section whose figures are ratios against a baseline measured in
the same run, next to the absolute figures; ``benchmarks/run.py`` collects
them into one report.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence

__all__ = ["machine", "markdown_table", "median_time", "per_call"]


def machine() -> str:
    """One line describing where the figures were measured."""
    cpu = platform.processor() or platform.machine()
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table; the first column is left-aligned, the others right-aligned."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join([":---"] + ["---:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def per_call(function: Callable[[], object], calls: int) -> float:
    """Seconds per call of ``function`` over ``calls`` calls."""
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls


def median_time(measure: Callable[[], float], repeats: int) -> float:
    """Median of ``repeats`` measurements (each a float of seconds)."""
    return statistics.median(measure() for _ in range(repeats))
