"""Robustness sweeps: team return versus one timing parameter (how much does a policy degrade?).

Example::

    result = robustness_sweep(env, policies, "obs_delay", [0, 0.5, 1, 2], episodes=5)
    print(result.to_markdown())
    plot_sweep("obs_delay.png", {"ippo": result})
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from heron.core.errors import ConfigError
from heron.core.policies import Policy
from heron.envs.base import BaseEnv
from heron.evaluation.episodes import evaluate_policies
from heron.scheduling.runner import evaluate_event_driven, resolve_schedules
from heron.utils._plotting import png_figure
from heron.utils.validation import check_number

__all__ = [
    "SWEEP_PARAMETERS",
    "SweepResult",
    "plot_sweep",
    "robustness_sweep",
    "sync_reference",
    "write_sweep_csv",
]

SWEEP_PARAMETERS: tuple[str, ...] = ("tick_interval", "obs_delay", "act_delay", "msg_delay", "jitter_ratio")


@dataclass
class SweepResult:
    """Team returns of event-driven runs for each value of one schedule parameter.

    Attributes:
        parameter: the swept ScheduleConfig field.
        values: its values, in sweep order.
        returns: for each value, the team return of each episode (seeds ``seed, seed+1, ...``).
        sync_returns: synchronous team returns with the same seeds over the same number of
            simulation steps, or ``None`` when ``t_end`` differs from one training episode.
        t_end: simulated time of each run.
    """

    parameter: str
    values: list[float]
    returns: list[list[float]]
    sync_returns: list[float] | None
    t_end: float

    @property
    def means(self) -> list[float]:
        return [float(np.mean(r)) for r in self.returns]

    @property
    def stds(self) -> list[float]:
        return [float(np.std(r)) for r in self.returns]

    @property
    def sync_mean(self) -> float | None:
        return None if self.sync_returns is None else float(np.mean(self.sync_returns))

    def rows(self) -> list[dict[str, float]]:
        """One dict per value: value, mean, std, and the change from the synchronous mean (NaN without it)."""
        sync = self.sync_mean
        rows = []
        for value, mean, std in zip(self.values, self.means, self.stds):
            change = math.nan if sync is None else mean - sync
            relative = math.nan if sync is None or sync == 0 else change / abs(sync)
            rows.append({"value": value, "mean": mean, "std": std, "change": change, "relative_change": relative})
        return rows

    def to_markdown(self) -> str:
        """The rows as a markdown table (the synchronous reference first, when known)."""
        lines = [f"| {self.parameter} | mean team return | std | change vs sync |", "|---:|---:|---:|---:|"]
        if self.sync_returns is not None:
            lines.append(f"| sync | {self.sync_mean:.2f} | {np.std(self.sync_returns):.2f} | 0.00 |")
        for row in self.rows():
            change = "n/a" if math.isnan(row["change"]) else f"{row['change']:+.2f}"
            lines.append(f"| {row['value']:g} | {row['mean']:.2f} | {row['std']:.2f} | {change} |")
        return "\n".join(lines)


def robustness_sweep(
    env: BaseEnv,
    policies: Mapping[str, Policy],
    parameter: str,
    values: Sequence[float],
    *,
    episodes: int = 5,
    seed: int = 0,
    t_end: float | None = None,
    sim_interval: float = 1.0,
    overrides: Mapping[str, Any] | None = None,
) -> SweepResult:
    """Evaluate ``policies`` event-driven for each value of ``parameter``, applied to every agent.

    Each agent keeps its own schedule (its ``schedule_config`` or its level's
    default) with ``overrides`` (e.g. ``{"jitter_type": "gaussian", "jitter_ratio": 0.1}``)
    and ``parameter=value`` applied. Every value runs the same ``episodes``
    seeds (``seed, seed+1, ...``, also used as jitter seeds). ``t_end``
    defaults to one training episode (``env.max_steps * sim_interval``); then
    the synchronous returns of the same seeds are measured as the reference.
    """
    if parameter not in SWEEP_PARAMETERS:
        raise ConfigError(f"cannot sweep {parameter!r}; sweepable parameters are {list(SWEEP_PARAMETERS)}")
    if not values:
        raise ConfigError(f"no values to sweep {parameter} over")
    episodes = check_number(episodes, "episodes", minimum=1, integer=True)
    overrides = dict(overrides or {})
    if parameter in overrides:
        raise ConfigError(f"{parameter!r} is both swept and fixed in overrides={overrides}")
    base = {aid: config.replace(**overrides) for aid, config in resolve_schedules(env).items()}
    sim_interval = check_number(sim_interval, "sim_interval", minimum=0, exclusive_minimum=True)
    horizon = env.max_steps * sim_interval
    if t_end is not None:
        horizon = check_number(t_end, "t_end", minimum=0, exclusive_minimum=True)
    returns = [
        event_driven_returns(
            env,
            policies,
            {aid: config.replace(**{parameter: value}) for aid, config in base.items()},
            episodes=episodes,
            seed=seed,
            t_end=horizon,
            sim_interval=sim_interval,
        )
        for value in values
    ]
    sync = sync_reference(env, policies, episodes=episodes, seed=seed, t_end=horizon, sim_interval=sim_interval)
    return SweepResult(parameter, [float(v) for v in values], returns, sync, horizon)


def event_driven_returns(
    env: BaseEnv,
    policies: Mapping[str, Policy],
    schedule: Any = None,
    *,
    episodes: int,
    seed: int,
    t_end: float | None = None,
    sim_interval: float = 1.0,
) -> list[float]:
    """Team returns of ``episodes`` event-driven runs seeded ``seed, seed+1, ...`` (also the jitter seeds)."""
    return [
        evaluate_event_driven(env, policies, t_end, seed + index, schedule=schedule, sim_interval=sim_interval)
        .team_return
        for index in range(episodes)
    ]


def sync_reference(
    env: BaseEnv,
    policies: Mapping[str, Policy],
    *,
    episodes: int,
    seed: int,
    t_end: float | None = None,
    sim_interval: float = 1.0,
) -> list[float] | None:
    """Synchronous team returns of the same seeds, when ``t_end`` spans one training episode (else ``None``)."""
    if t_end is not None and t_end != env.max_steps * sim_interval:
        return None
    return evaluate_policies(env, policies, episodes, seed)


def write_sweep_csv(path: str | Path, results: Mapping[str, SweepResult]) -> Path:
    """One line per episode: label, swept value (``sync`` for the synchronous reference), episode, team return."""
    path = Path(path)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["label", "parameter", "value", "episode", "team_return"])
        for label, result in results.items():
            for index, episode_return in enumerate(result.sync_returns or []):
                writer.writerow([label, result.parameter, "sync", index, f"{episode_return:.6f}"])
            for value, returns in zip(result.values, result.returns):
                for index, episode_return in enumerate(returns):
                    writer.writerow([label, result.parameter, value, index, f"{episode_return:.6f}"])
    return path


def plot_sweep(path: str | Path, results: Mapping[str, SweepResult]) -> Path:
    """Mean team return (error bars: std over episodes) versus the swept value, one line per label.

    The synchronous reference of each result is drawn as a dashed line of the same colour.
    """
    if not results:
        raise ConfigError("no sweep results to plot")
    parameters = {result.parameter for result in results.values()}
    if len(parameters) != 1:
        raise ConfigError(f"cannot plot sweeps of different parameters {sorted(parameters)} on one axis")
    with png_figure(path, parameters.pop(), "team return", figsize=(7, 4.5)) as ax:
        for index, (label, result) in enumerate(results.items()):
            colour = f"C{index}"
            ax.errorbar(result.values, result.means, yerr=result.stds, marker="o", capsize=3, color=colour,
                        label=f"{label} (event-driven)")
            if result.sync_mean is not None:
                ax.axhline(result.sync_mean, color=colour, linestyle="--", linewidth=1,
                           label=f"{label} (synchronous)")
    return Path(path)
