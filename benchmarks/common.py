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
from typing import TypeVar

__all__ = ["alternating_times", "machine", "markdown_table", "median_ratio", "per_call"]

_T = TypeVar("_T")


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


def alternating_times(*measures: Callable[[], _T], repeats: int) -> tuple[list[_T], ...]:
    """``repeats`` measurements of each of ``measures``, taken in turn so that load drifting on a shared
    machine hits all alike; one list per measure."""
    series: tuple[list[_T], ...] = tuple([] for _ in measures)
    for _ in range(repeats):
        for measure, times in zip(measures, series):
            times.append(measure())
    return series


def median_ratio(numerators: Sequence[float], denominators: Sequence[float]) -> float:
    """Median of the per-pair ratios of two alternating series."""
    return statistics.median(n / d for n, d in zip(numerators, denominators, strict=True))
