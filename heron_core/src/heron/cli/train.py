"""``heron train``: train on an environment and write a run folder."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from heron.cli._console import console
from heron.training.experiment import ALGORITHMS, ExperimentSpec, TrainingResult, make_trainer
from heron.training.plugins import get_plugin_manager

__all__ = ["train"]

DEFAULT_BACKEND = "manual"
DEFAULT_ENV = "thermostat"


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


@click.command()
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
