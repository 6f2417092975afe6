"""The ``heron`` command line.

``heron backends`` and ``heron envs`` list what is installed; ``heron train``,
``heron evaluate`` and ``heron compare`` work with any installed backend.
Plugins add their own commands through the ``heron_commands`` hook.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from heron.core.errors import HeronError
from heron.training.experiment import ALGORITHMS, ExperimentSpec, TrainingResult, make_trainer
from heron.training.plugins import get_plugin_manager

__all__ = ["cli"]

console = Console()
DEFAULT_BACKEND = "manual"
DEFAULT_ENV = "thermostat"


class HeronGroup(click.Group):
    """A click group that adds plugin commands on first use and turns HERON errors into one-line messages."""

    _plugins_loaded = False

    def _load_plugin_commands(self) -> None:
        if not self._plugins_loaded:
            self._plugins_loaded = True
            list(get_plugin_manager().call_each("heron_commands", cli=self))

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        self._load_plugin_commands()
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HeronError as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(cls=HeronGroup)
@click.version_option(package_name="heron-core", prog_name="heron")
def cli() -> None:
    """HERON: train multi-agent RL policies for hierarchical control systems.

    \b
    Quick start:
      heron backends            installed training backends
      heron envs                registered environments
      heron train               train IPPO and MAPPO on the two-room thermostat
      heron evaluate RUN_DIR    evaluate the policies a training run saved
    """


# ----------------------------------------------------------------- listing
@cli.command()
@click.option("--verbose", "-v", is_flag=True, help="Also list every plugin: its module, distribution and hooks.")
def backends(verbose: bool) -> None:
    """List installed backends, their algorithms and status (broken plugins included)."""
    manager = get_plugin_manager()
    entries = manager.backends()
    table = Table(title="HERON backends")
    for column in ("backend", "distribution", "version", "algorithms"):
        table.add_column(column, no_wrap=True)
    table.add_column("status", overflow="fold")  # long errors wrap instead of being cut at the terminal width
    for name, entry in sorted(entries.items()):
        table.add_row(name, entry.plugin.distribution, entry.plugin.version, ", ".join(entry.spec.algorithms), "ok")
    for record in manager.records.values():
        if not record.ok:
            status = Text.assemble(("broken", "red"), f": {record.error}")
            table.add_row(record.name, record.distribution, record.version, "-", status)
    console.print(table)
    if not entries:
        console.print("No working backend. Install one: pip install ./heron_backend_manual")
    if verbose:
        console.print("Plugins (entry-point group 'heron'):")
        for record in sorted(manager.records.values(), key=lambda record: record.name):
            line = (f"  {record.name}: module {record.module} from {record.distribution} {record.version}; "
                    f"hooks: {', '.join(record.hooks) or 'none'}")
            console.print(line if record.ok else f"{line}; error: {record.error}", markup=False, soft_wrap=True)


@cli.command()
def envs() -> None:
    """List registered environments."""
    from heron.training.registry import env_specs

    table = Table(title="HERON environments")
    table.add_column("name")
    table.add_column("description")
    for name, spec in sorted(env_specs().items()):
        table.add_row(name, spec.description)
    console.print(table)


# ---------------------------------------------------------------- training
def _parse_pairs(pairs: Sequence[str], option: str) -> dict[str, Any]:
    """``key=value`` pairs; values are parsed as JSON when they can be (numbers, lists, true/false)."""
    parsed: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint=option)
        try:
            parsed[key] = json.loads(value)
        except json.JSONDecodeError:
            parsed[key] = value
    return parsed


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("return {task.fields[ret]:>9.2f}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _summary_table(results: Sequence[TrainingResult], title: str) -> Table:
    from heron.training import SUMMARY_WINDOW, summarize_returns

    table = Table(title=title)
    for column in ("algo", "episodes", f"first {SUMMARY_WINDOW}", f"last {SUMMARY_WINDOW}",
                   f"best {SUMMARY_WINDOW}", "gain", "time (s)"):
        table.add_column(column, justify="right")
    for result in results:
        summary = summarize_returns(result.returns)
        table.add_row(
            result.algorithm,
            str(summary.episodes),
            f"{summary.first:.2f}",
            f"{summary.last:.2f}",
            f"{summary.best:.2f}",
            f"{summary.improvement:+.2f}",
            f"{result.wall_time_s:.1f}",
        )
    return table


@cli.command()
@click.option("--backend", default=DEFAULT_BACKEND, show_default=True, help="Installed backend to train with.")
@click.option(
    "--algo",
    "algorithms",
    type=click.Choice([*ALGORITHMS, "all"]),
    default="all",
    show_default=True,
    help="Algorithm; 'all' trains each and compares them.",
)
@click.option("--env", "env_name", default=DEFAULT_ENV, show_default=True, help="Registered environment name.")
@click.option("--env-arg", multiple=True, metavar="KEY=VALUE", help="Environment argument, e.g. num_rooms=10.")
@click.option("--episodes", type=int, default=None, help="Training episodes (backend default when omitted).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--set", "hyperparams", multiple=True, metavar="KEY=VALUE", help="Backend hyper-parameter.")
@click.option("--out", "out_root", default="runs", show_default=True, type=click.Path(file_okay=False))
def train(
    backend: str,
    algorithms: str,
    env_name: str,
    env_arg: Sequence[str],
    episodes: int | None,
    seed: int,
    hyperparams: Sequence[str],
    out_root: str,
) -> None:
    """Train on an environment and write a run folder (metrics CSV, learning curve PNG, checkpoints)."""
    from heron.runs.folder import new_run_dir, plot_learning_curves, write_metrics_csv
    from heron.training.registry import reference_return
    from heron.utils.files import write_json_atomic

    if episodes is not None and episodes < 1:
        raise click.BadParameter(f"must be a positive integer, got {episodes}", param_hint="--episodes")
    env_kwargs = _parse_pairs(env_arg, "--env-arg")
    params = _parse_pairs(hyperparams, "--set")
    names = list(ALGORITHMS) if algorithms == "all" else [algorithms]
    backend_spec = get_plugin_manager().backend(backend)
    names = [name for name in names if name in backend_spec.algorithms] if algorithms == "all" else names
    stop = {"episodes": episodes} if episodes is not None else None
    specs = [
        ExperimentSpec(
            env=env_name,
            env_kwargs=env_kwargs,
            algorithm=name,
            seed=seed,
            hyperparams=params,
            **({"stop": stop} if stop else {}),
        )
        for name in names
    ]
    for spec in specs:
        spec.env_config()  # fail on a bad env before creating the run folder
    trainers = [make_trainer(spec, backend) for spec in specs]
    run_dir = new_run_dir(out_root, f"{env_name}-{backend}")
    results: list[TrainingResult] = []
    interrupted = False
    with _progress() as progress:
        for spec, trainer in zip(specs, trainers):
            total = spec.stop.episodes  # type: ignore[union-attr]
            task = progress.add_task(f"{spec.algorithm} ({backend})", total=total, ret=float("nan"))

            def on_episode(record, task=task) -> None:
                progress.update(task, completed=record.episode, ret=record.team_return)

            result = trainer.train(progress=on_episode)
            trainer.save(run_dir / "checkpoints" / spec.algorithm)
            results.append(result)
            if result.interrupted:
                interrupted = True
                break
    write_json_atomic(
        run_dir / "config.json",
        {"backend": backend, "experiments": [spec.to_dict() for spec in specs[: len(results)]]},
    )
    write_metrics_csv(run_dir / "metrics.csv", results)
    reference = reference_return(env_name, **env_kwargs)
    references = {"reference controller": reference} if reference is not None else {}
    plot_learning_curves(run_dir / "learning_curve.png", results, references)
    console.print(_summary_table(results, f"{env_name} ({backend}): team return per episode"))
    if reference is not None:
        console.print(f"Reference controller: {reference:.2f} (mean team return over 20 evaluation episodes)")
    console.print(f"Run written to [bold]{run_dir}[/bold] (metrics.csv, learning_curve.png, checkpoints/, config.json)")
    if interrupted:
        console.print("[yellow]Interrupted: the last checkpoint was saved.[/yellow]")
        sys.exit(130)


# -------------------------------------------------------------- evaluation
def _read_run(run_dir: Path) -> dict[str, Any]:
    config_path = run_dir / "config.json"
    if not config_path.is_file():
        raise click.ClickException(f"{run_dir} is not a run folder: {config_path.name} is missing")
    try:
        run = json.loads(config_path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.ClickException(f"{config_path} is not valid JSON: {exc}") from exc
    if not _is_run_config(run):
        raise click.ClickException(
            f"{config_path} is not a run config: expected 'backend' and 'experiments' (each with 'algorithm', 'env' "
            f"and 'env_kwargs'), got {json.dumps(run)[:200]}"
        )
    return run


def _is_run_config(run: Any) -> bool:
    """Whether ``run`` holds what ``heron train`` writes to config.json and the other commands read."""
    experiments = run.get("experiments") if isinstance(run, dict) else None
    if not isinstance(experiments, list) or not isinstance(run.get("backend"), str):
        return False
    return all(
        isinstance(entry, dict) and isinstance(entry.get("algorithm"), str) and "env" in entry
        and isinstance(entry.get("env_kwargs"), dict)
        for entry in experiments
    )


def _read_returns(run_dir: Path) -> dict[tuple[str, str], list[float]]:
    """``{(backend, algorithm): team returns}`` from the run's metrics.csv."""
    path = run_dir / "metrics.csv"
    if not path.is_file():
        raise click.ClickException(f"{run_dir} is not a run folder: {path.name} is missing")
    rows: dict[tuple[str, str], list[float]] = {}
    with open(path, newline="") as handle:
        try:
            for row in csv.DictReader(handle):
                rows.setdefault((row["backend"], row["algorithm"]), []).append(float(row["team_return"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise click.ClickException(
                f"{path} is corrupt: {type(exc).__name__}: {exc} (expected columns backend, algorithm and a numeric "
                "team_return)"
            ) from exc
    return rows


def _parse_values(text: str, option: str) -> list[float]:
    """``"0,0.5,1"`` -> ``[0.0, 0.5, 1.0]``."""
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated numbers, got {text!r}", param_hint=option) from None
    return values


def _evaluate_event_driven(
    run_dir: Path, run: dict[str, Any], episodes: int, seed: int, timing: dict[str, str | None],
    jitter: str | None, t_end: float | None,
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
    backend_spec = get_plugin_manager().backend(run["backend"])
    title = f"event-driven evaluation of {run_dir} ({episodes} episodes)"
    table = Table(title=title + (f": team return vs {parameter}" if parameter else ""))
    for column in ("algorithm", parameter or "schedule", "mean team return", "std", "change vs sync"):
        table.add_column(column, justify="right")
    results = {}
    for experiment in run["experiments"]:
        algorithm = experiment["algorithm"]
        policies = backend_spec.load_policies(run_dir / "checkpoints" / algorithm)
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
        png = plot_sweep(run_dir / f"event_driven_{parameter}.png", results)
        csv_path = write_sweep_csv(run_dir / f"event_driven_{parameter}.csv", results)
        console.print(f"Plot written to [bold]{png}[/bold], returns to [bold]{csv_path}[/bold]")


@cli.command()
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
) -> None:
    """Evaluate the policies saved in RUN_DIR synchronously, or under event-driven timing.

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
    run = _read_run(run_dir)
    if event_driven:
        _evaluate_event_driven(run_dir, run, episodes, seed, timing, jitter, t_end)
        return
    if any(timing.values()) or jitter is not None or t_end is not None:
        raise click.UsageError("timing options (--obs-delay, --jitter, --t-end, ...) need --event-driven")
    backend_spec = get_plugin_manager().backend(run["backend"])
    table = Table(title=f"evaluation of {run_dir} ({episodes} episodes)")
    for column in ("algorithm", "mean team return", "std"):
        table.add_column(column, justify="right")
    for experiment in run["experiments"]:
        policies = backend_spec.load_policies(run_dir / "checkpoints" / experiment["algorithm"])
        env = make_env(experiment["env"], **experiment["env_kwargs"])
        returns = evaluate_policies(env, policies, episodes, seed)
        table.add_row(experiment["algorithm"], f"{np.mean(returns):.2f}", f"{np.std(returns):.2f}")
    console.print(table)


@cli.command()
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
def compare(run_dirs: Sequence[Path]) -> None:
    """Compare the learning figures of one or more run folders."""
    from heron.training import SUMMARY_WINDOW, summarize_returns

    table = Table(title="training runs")
    for column in ("run", "backend", "algorithm", "episodes", f"first {SUMMARY_WINDOW}", f"last {SUMMARY_WINDOW}",
                   f"best {SUMMARY_WINDOW}"):
        table.add_column(column, justify="right")
    for run_dir in run_dirs:
        _read_run(run_dir)
        for (backend, algorithm), returns in _read_returns(run_dir).items():
            summary = summarize_returns(returns)
            table.add_row(str(run_dir), backend, algorithm, str(summary.episodes), f"{summary.first:.2f}",
                          f"{summary.last:.2f}", f"{summary.best:.2f}")
    console.print(table)
