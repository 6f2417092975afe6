"""``heron evaluate`` and ``heron compare``: look at what a run folder holds."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from heron.cli._console import console
from heron.core.errors import BackendError
from heron.core.policies import Policy
from heron.runs.checkpoints import CheckpointSlot
from heron.runs.folder import read_run_config
from heron.runs.metrics import read_returns
from heron.training.backends import BackendSpec
from heron.training.plugins import get_plugin_manager
from heron.utils.files import resolve_within

__all__ = ["compare", "evaluate"]


def _loader(backend_spec: BackendSpec, run_dir: Path, allow_pickle: bool) -> Callable[[Path], Mapping[str, Policy]]:
    """The backend's data-only ``load_policies``, or with ``--allow-pickle`` its ``load_pickled`` (with a warning)."""
    if not allow_pickle:
        return backend_spec.load_policies
    if backend_spec.load_pickled is None:
        raise BackendError(
            f"backend {backend_spec.name!r} has no pickled checkpoint format: --allow-pickle does not apply "
            "(its checkpoints load as data only without it)"
        )
    click.echo(f"Warning: --allow-pickle unpickles {backend_spec.name!r} checkpoint files in {run_dir}, which runs "
               "code from that folder: use it only on run folders you trust.", err=True)
    load_pickled = backend_spec.load_pickled

    def load_trusted(path: Path) -> Mapping[str, Policy]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the backend's own warning repeats the line above
            return load_pickled(path)

    return load_trusted


def _parse_values(text: str, option: str) -> list[float]:
    """``"0,0.5,1"`` -> ``[0.0, 0.5, 1.0]``."""
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated numbers, got {text!r}", param_hint=option) from None
    return values


def _evaluate_event_driven(
    run_dir: Path, run: dict[str, Any], episodes: int, seed: int, timing: dict[str, str | None],
    jitter: str | None, t_end: float | None, allow_pickle: bool,
) -> None:
    """``heron evaluate --event-driven``: a table (and, for a sweep, a PNG and a CSV) of team return vs timing."""
    import numpy as np

    from heron.evaluation import plot_sweep, robustness_sweep, sync_reference, write_sweep_csv
    from heron.evaluation.robustness import event_driven_returns
    from heron.scheduling.runner import resolve_schedules
    from heron.training.registry import make_env

    values = {name: _parse_values(text, "--" + name.replace("_", "-")) for name, text in timing.items() if text}
    swept = [name for name, given in values.items() if len(given) > 1]
    if len(swept) > 1:
        options = ", ".join("--" + name.replace("_", "-") for name in swept)
        raise click.UsageError(f"sweep one timing parameter at a time ({options} each have several values)")
    overrides: dict[str, Any] = {name: given[0] for name, given in values.items() if name not in swept}
    if jitter is not None:
        overrides["jitter_type"] = jitter
    parameter = swept[0] if swept else None
    outputs = [run_dir / f"event_driven_{parameter}.{kind}" for kind in ("png", "csv")] if parameter else []
    for output in outputs:
        resolve_within(output, run_dir)  # a symlink planted in the folder must not redirect the write
    load = _loader(get_plugin_manager().backend(run["backend"]), run_dir, allow_pickle)
    title = f"event-driven evaluation of {run_dir} ({episodes} episodes)"
    table = Table(title=title + (f": team return vs {parameter}" if parameter else ""))
    for column in ("algorithm", parameter or "schedule", "mean team return", "std", "change vs sync"):
        table.add_column(column, justify="right")
    results = {}
    for experiment in run["experiments"]:
        algorithm = experiment["algorithm"]
        policies = load(CheckpointSlot(run_dir, algorithm).latest())
        env = make_env(experiment["env"], **experiment["env_kwargs"])
        if parameter is None:
            schedule = {aid: config.replace(**overrides) for aid, config in resolve_schedules(env).items()}
            returns = event_driven_returns(env, policies, schedule, episodes=episodes, seed=seed, t_end=t_end)
            sync = sync_reference(env, policies, episodes=episodes, seed=seed, t_end=t_end)
            change = "n/a" if sync is None else f"{np.mean(returns) - np.mean(sync):+.2f}"
            if sync is not None:
                table.add_row(algorithm, "sync", f"{np.mean(sync):.2f}", f"{np.std(sync):.2f}", "0.00")
            table.add_row(algorithm, "event-driven", f"{np.mean(returns):.2f}", f"{np.std(returns):.2f}", change)
            continue
        result = robustness_sweep(env, policies, parameter, values[parameter], episodes=episodes, seed=seed,
                                  t_end=t_end, overrides=overrides)
        results[algorithm] = result
        if result.sync_returns is not None:
            table.add_row(algorithm, "sync", f"{result.sync_mean:.2f}", f"{np.std(result.sync_returns):.2f}", "0.00")
        for row in result.rows():
            change = "n/a" if np.isnan(row["change"]) else f"{row['change']:+.2f}"
            table.add_row(algorithm, f"{row['value']:g}", f"{row['mean']:.2f}", f"{row['std']:.2f}", change)
    console.print(table)
    if parameter and parameter.endswith("_delay"):
        console.print("[dim]The simulation steps once per time unit (one training step): a delay acts through the "
                      "steps it spans, so delays below 1 change nothing while ticks stay on whole steps "
                      "(--jitter spreads them).[/dim]")
    if results:
        png = plot_sweep(outputs[0], results)
        csv_path = write_sweep_csv(outputs[1], results)
        console.print(f"Plot written to [bold]{png}[/bold], returns to [bold]{csv_path}[/bold]")


@click.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--episodes", type=int, default=10, show_default=True)
@click.option("--seed", type=int, default=1000, show_default=True, help="Seed of the first evaluation episode.")
@click.option("--event-driven", is_flag=True, help="Evaluate under event-driven timing (heron.scheduling).")
@click.option("--tick-interval", metavar="VALUES", help="Event-driven: every agent's tick interval (a,b,c sweeps).")
@click.option("--obs-delay", metavar="VALUES", help="Event-driven: observation delay, e.g. 0,0.5,1,2 (sweeps).")
@click.option("--act-delay", metavar="VALUES", help="Event-driven: action delay (a,b,c sweeps).")
@click.option("--msg-delay", metavar="VALUES", help="Event-driven: coordinator message delay (a,b,c sweeps).")
@click.option("--jitter", type=click.Choice(["none", "uniform", "gaussian"]), help="Event-driven: jitter type.")
@click.option("--jitter-ratio", metavar="VALUES", help="Event-driven: jitter ratio in [0, 1] (a,b,c sweeps).")
@click.option("--t-end", type=float, help="Event-driven: simulated time per episode [default: the env's max_steps].")
@click.option("--allow-pickle", is_flag=True,
              help="Load the backend's own pickled checkpoint instead of its data-only export. This runs code from "
                   "RUN_DIR: only for run folders you trust.")
def evaluate(
    run_dir: Path,
    episodes: int,
    seed: int,
    event_driven: bool,
    tick_interval: str | None,
    obs_delay: str | None,
    act_delay: str | None,
    msg_delay: str | None,
    jitter: str | None,
    jitter_ratio: str | None,
    t_end: float | None,
    allow_pickle: bool,
) -> None:
    """Evaluate the policies saved in RUN_DIR synchronously, or under event-driven timing.

    \b
    Each algorithm's last complete checkpoint (RUN_DIR/checkpoints/<algorithm>/)
    is loaded as data only (JSON and pickle-free arrays); nothing read from
    RUN_DIR may lie outside it.

    \b
    With --event-driven, each timing option sets every agent's value; one
    option with several values (--obs-delay 0,0.5,1,2) sweeps it and writes
    RUN_DIR/event_driven_<option>.png and .csv: team return versus the
    value, next to the synchronous return of the same seeds.
    """
    import numpy as np

    from heron.evaluation.episodes import evaluate_policies
    from heron.training.registry import make_env

    if episodes < 1:
        raise click.BadParameter(f"must be a positive integer, got {episodes}", param_hint="--episodes")
    from heron.evaluation import SWEEP_PARAMETERS  # the timing options, in their order

    timing = dict(zip(SWEEP_PARAMETERS, (tick_interval, obs_delay, act_delay, msg_delay, jitter_ratio), strict=True))
    run = read_run_config(run_dir)
    if event_driven:
        _evaluate_event_driven(run_dir, run, episodes, seed, timing, jitter, t_end, allow_pickle)
        return
    if any(timing.values()) or jitter is not None or t_end is not None:
        raise click.UsageError("timing options (--obs-delay, --jitter, --t-end, ...) need --event-driven")
    load = _loader(get_plugin_manager().backend(run["backend"]), run_dir, allow_pickle)
    table = Table(title=f"evaluation of {run_dir} ({episodes} episodes)")
    for column in ("algorithm", "mean team return", "std"):
        table.add_column(column, justify="right")
    for experiment in run["experiments"]:
        policies = load(CheckpointSlot(run_dir, experiment["algorithm"]).latest())
        env = make_env(experiment["env"], **experiment["env_kwargs"])
        returns = evaluate_policies(env, policies, episodes, seed)
        table.add_row(experiment["algorithm"], f"{np.mean(returns):.2f}", f"{np.std(returns):.2f}")
    console.print(table)


@click.command()
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
def compare(run_dirs: Sequence[Path]) -> None:
    """Compare the learning figures of one or more run folders."""
    from heron.training import SUMMARY_WINDOW, summarize_returns

    table = Table(title="training runs")
    for column in ("run", "backend", "algorithm", "episodes", f"first {SUMMARY_WINDOW}", f"last {SUMMARY_WINDOW}",
                   f"best {SUMMARY_WINDOW}"):
        table.add_column(column, justify="right")
    for run_dir in run_dirs:
        read_run_config(run_dir)
        for (backend, algorithm), returns in read_returns(run_dir).items():
            summary = summarize_returns(returns)
            table.add_row(str(run_dir), backend, algorithm, str(summary.episodes), f"{summary.first:.2f}",
                          f"{summary.last:.2f}", f"{summary.best:.2f}")
    console.print(table)
