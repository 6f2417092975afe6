"""``heron train``: train on an environment, writing a run folder as training goes; ``--resume`` continues one.

A run folder is usable at every instant, even after the process was killed:

* ``config.json``: the backend and every experiment's spec, written before training starts;
* ``metrics.csv``: one row per episode, appended and flushed as training goes (:mod:`heron.runs.metrics`);
* ``tensorboard/<algorithm>/``: event files, flushed every episode (:mod:`heron.runs.tensorboard`);
* ``checkpoints/<algorithm>/``: versioned checkpoints (:class:`~heron.runs.checkpoints.CheckpointSlot`),
  saved after updates (``--checkpoint-every``) when the backend's ``train`` takes ``on_update``, and at
  the end; each also holds ``heron_progress.json`` (episodes and env steps it covers, whether training
  finished, the spec);
* ``learning_curve.png``: drawn from metrics.csv at the end.

``heron train --resume RUN_DIR`` rebuilds each experiment from config.json, restores its last checkpoint
(training from scratch those that have none, skipping finished ones), drops the metrics rows and TensorBoard
events after the checkpoint, and trains on to the budget; ``--episodes N`` sets a new total budget.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from heron.cli._console import HintedChoice, console
from heron.core.errors import BackendError, CheckpointError, ConfigError
from heron.training.experiment import (
    ALGORITHMS,
    SUMMARY_WINDOW,
    EpisodeRecord,
    ExperimentSpec,
    ResumableTrainer,
    Trainer,
    check_same_spec,
    make_trainer,
    summarize_returns,
)
from heron.training.plugins import get_plugin_manager

if TYPE_CHECKING:
    from heron.runs.checkpoints import CheckpointSlot
    from heron.runs.metrics import MetricsLog

__all__ = ["train"]

DEFAULT_BACKEND = "manual"
DEFAULT_ENV = "thermostat"
PROGRESS_FILE = "heron_progress.json"
DEFAULT_CHECKPOINT_EVERY = 20
"""Episodes between checkpoints: a crash loses at most this many (plus one update), and saving (about 10 ms for
the manual backend, whose updates take 4 episodes) stays a small part of training."""
SPEC_OPTIONS = {  # parameter name -> option: what --resume takes from config.json instead
    "backend": "--backend", "algorithms": "--algo", "env_name": "--env", "env_arg": "--env-arg", "seed": "--seed",
    "hyperparams": "--set", "out_root": "--out",
}


@dataclass
class _Experiment:
    """One algorithm of the run: its spec, its trainer (None: finished before) and what the folder holds of it."""

    spec: ExperimentSpec
    trainer: Trainer | None
    episodes: int = 0  # episodes and env steps of its checkpoint, from which this session goes on
    env_steps: int = 0
    restored: bool = False  # from a checkpoint
    wall_time_s: float | None = None


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


# ------------------------------------------------------------------ set-up
def _provider(backend: str) -> str:
    """``heron-backend-manual 0.1.0``: the distribution that provides ``backend``."""
    plugin = get_plugin_manager().backends()[backend].plugin
    return f"{plugin.distribution} {plugin.version}"


def _accepts_on_update(trainer: Trainer) -> bool:
    try:
        parameter = inspect.signature(trainer.train).parameters.get("on_update")
    except (TypeError, ValueError):  # a callable without a signature
        return False
    return parameter is not None and parameter.kind in (parameter.KEYWORD_ONLY, parameter.POSITIONAL_OR_KEYWORD)


def _agent_ids(spec: ExperimentSpec) -> list[str]:
    from heron.envs.builder import build_env

    return list(build_env(spec.env_config()).possible_agents)


def _new_experiments(
    backend: str, algorithms: str, env_name: str, env_kwargs: dict[str, Any], episodes: int | None, seed: int,
    params: dict[str, Any],
) -> list[_Experiment]:
    """Every experiment of a new run, its trainer built: bad specs or hyperparams fail here, before any folder."""
    backend_spec = get_plugin_manager().backend(backend)
    names = [name for name in ALGORITHMS if name in backend_spec.algorithms] if algorithms == "all" else [algorithms]
    stop = {"stop": {"episodes": episodes}} if episodes is not None else {}
    specs = [ExperimentSpec(env=env_name, env_kwargs=env_kwargs, algorithm=name, seed=seed, hyperparams=params, **stop)
             for name in names]
    for spec in specs:
        spec.env_config()  # a bad env fails before any trainer is built
    return [_Experiment(spec, make_trainer(spec, backend)) for spec in specs]


def _latest(slot: CheckpointSlot) -> Path | None:
    """The slot's last complete checkpoint, or None when none was saved (a corrupt slot is an error)."""
    return slot.latest() if slot.exists() else None


def _read_progress(checkpoint: Path) -> dict[str, Any]:
    """``heron_progress.json`` of a checkpoint ``heron train`` saved, checked."""
    path = checkpoint / PROGRESS_FILE
    try:
        progress = json.loads(path.read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{path} is missing: {checkpoint} was not saved by heron train") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path} is corrupt: {exc}") from exc
    counts_ok = isinstance(progress, dict) and all(
        type(progress.get(key)) is int and progress[key] >= 0 for key in ("episodes", "env_steps")
    )
    if not counts_ok or not isinstance(progress.get("finished"), bool) or not isinstance(progress.get("spec"), dict):
        raise CheckpointError(
            f"{path} must hold non-negative integers 'episodes' and 'env_steps', a boolean 'finished' and the "
            f"'spec', got {json.dumps(progress)[:200]}"
        )
    return progress


def _resumed_experiments(run_dir: Path, episodes: int | None) -> tuple[str, list[_Experiment]]:
    """The backend and experiments of ``run_dir``, each restored from its last checkpoint (nothing is written).

    Raises:
        HeronError: config.json or a checkpoint is invalid, the backend cannot resume, a checkpoint's spec
            differs from config.json, or ``episodes`` is below what an algorithm has trained already.
    """
    from heron.runs.checkpoints import CheckpointSlot
    from heron.runs.folder import read_run_config

    run = read_run_config(run_dir)
    backend = run["backend"]
    experiments = []
    for index, entry in enumerate(run["experiments"]):
        saved = ExperimentSpec.from_dict(entry, f"{run_dir / 'config.json'} experiments[{index}]")
        spec = saved
        if episodes is not None:
            spec = dataclasses.replace(saved, stop=dataclasses.replace(saved.stop, episodes=episodes))
        checkpoint = _latest(CheckpointSlot(run_dir, spec.algorithm))
        if checkpoint is None:
            experiments.append(_Experiment(spec, _resumable(make_trainer(spec, backend), backend)))
            continue
        progress = _read_progress(checkpoint)
        if episodes is not None and episodes < progress["episodes"]:
            raise ConfigError(f"--episodes {episodes} is below the {progress['episodes']} episodes "
                              f"{spec.algorithm} has trained already (checkpoint {checkpoint})")
        trainer = None
        if progress["finished"] and spec.stop == saved.stop:
            check_same_spec(progress["spec"], spec, f"checkpoint {checkpoint}")
        else:
            trainer = _resumable(make_trainer(spec, backend), backend)
            trainer.restore(checkpoint, allow_stop_change=episodes is not None)
        experiments.append(_Experiment(spec, trainer, progress["episodes"], progress["env_steps"], restored=True))
    return backend, experiments


def _resumable(trainer: Trainer, backend: str) -> ResumableTrainer:
    if not isinstance(trainer, ResumableTrainer):
        raise BackendError(f"backend {backend!r} cannot resume runs: its trainer {type(trainer).__name__} has no "
                           "restore(path, *, allow_stop_change) method")
    return trainer


def _refuse_spec_options(ctx: click.Context) -> None:
    given = [option for name, option in SPEC_OPTIONS.items()
             if ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, None)]
    if given:
        raise click.ClickException(
            f"--resume continues RUN_DIR with the specs in its config.json, so {', '.join(given)} cannot be given "
            "with it (--episodes, a new total budget, and --checkpoint-every can)"
        )


# ---------------------------------------------------------------- training
class _Session:
    """Trains the experiments one after another, writing rows, events and checkpoints into the run folder.

    Args:
        resuming: the folder may hold events of episodes trained after the checkpoints, which TensorBoard
            must then hide (see :class:`~heron.runs.tensorboard.TensorBoardLog`).
    """

    def __init__(self, run_dir: Path, backend: str, checkpoint_every: int, resuming: bool) -> None:
        self.run_dir, self.backend = run_dir, backend
        self.checkpoint_every, self.resuming = checkpoint_every, resuming
        self.episodes_written = 0

    def run(self, experiments: Sequence[_Experiment], metrics: MetricsLog) -> bool:
        """Train every experiment that has a trainer; True if interrupted (the later ones are not started)."""
        with metrics, _progress() as progress:
            for experiment in experiments:
                if experiment.trainer is not None and self._train(experiment, metrics, progress):
                    return True
        return False

    def _train(self, experiment: _Experiment, metrics: MetricsLog, progress: Progress) -> bool:
        """Train one experiment to its budget, or until interrupted; True if interrupted."""
        from heron.runs.checkpoints import CheckpointSlot
        from heron.runs.tensorboard import TensorBoardLog

        spec, trainer = experiment.spec, experiment.trainer
        assert trainer is not None
        slot = CheckpointSlot(self.run_dir, spec.algorithm)
        done = {"episodes": experiment.episodes, "env_steps": experiment.env_steps, "saved": experiment.episodes}
        task = progress.add_task(f"{spec.algorithm} ({self.backend})", total=spec.stop.episodes,
                                 completed=experiment.episodes, ret=float("nan"))
        purge = experiment.episodes + 1 if self.resuming else None
        with TensorBoardLog(self.run_dir, spec.algorithm, purge_from=purge, env_steps=experiment.env_steps) as board:

            def on_episode(record: EpisodeRecord) -> None:
                if record.episode <= done["episodes"]:
                    return  # already in the folder (a result may repeat the restored history)
                metrics.append(self.backend, spec.algorithm, record)
                board.write(record)
                done["episodes"], done["env_steps"] = record.episode, record.env_steps
                self.episodes_written += 1
                progress.update(task, completed=record.episode, ret=record.team_return)

            def save(finished: bool) -> None:
                metrics.sync()  # the rows a checkpoint counts are on disk before it is
                state = {"episodes": done["episodes"], "env_steps": done["env_steps"], "finished": finished,
                         "spec": spec.to_dict()}
                slot.save(lambda path: _write_checkpoint(trainer, path, state))
                done["saved"] = done["episodes"]

            def on_update() -> None:
                if done["episodes"] - done["saved"] >= self.checkpoint_every:
                    save(finished=False)

            extra = {"on_update": on_update} if _accepts_on_update(trainer) else {}
            if not extra:
                console.print(f"The {self.backend!r} trainer takes no on_update callback: {spec.algorithm} is "
                              "checkpointed only at the end of training.")
            note = getattr(trainer, "budget_note", None)  # e.g. RLlib: whole iterations train more episodes
            if note:
                console.print(f"{spec.algorithm}: {note}")
            started = time.perf_counter()
            try:
                result = trainer.train(progress=on_episode, **extra)
                for record in result.episodes:  # those an interrupt kept from the progress callback
                    on_episode(record)
                experiment.wall_time_s = time.perf_counter() - started
                if done["episodes"] or experiment.restored:
                    save(finished=not result.interrupted)
            finally:
                _close(trainer)
        return result.interrupted


def _close(trainer: Trainer) -> None:
    """Release what the trainer holds (RLlib: its env runners' CPUs, which the next experiment needs)."""
    close = getattr(trainer, "close", None)
    if callable(close):
        close()


def _write_checkpoint(trainer: Trainer, path: Path, state: dict[str, Any]) -> None:
    from heron.utils.files import write_json_atomic

    trainer.save(path)
    write_json_atomic(path / PROGRESS_FILE, state)


def _summary_table(run_dir: Path, backend: str, experiments: Sequence[_Experiment], title: str) -> Table:
    """The comparison of the whole run (metrics.csv, including what earlier sessions trained)."""
    from heron.runs.metrics import read_returns

    returns = read_returns(run_dir)
    table = Table(title=title)
    for column in ("algo", "episodes", f"first {SUMMARY_WINDOW}", f"last {SUMMARY_WINDOW}",
                   f"best {SUMMARY_WINDOW}", "gain", "time (s)"):
        table.add_column(column, justify="right")
    for experiment in experiments:
        values = returns.get((backend, experiment.spec.algorithm))
        if not values:
            continue
        summary = summarize_returns(values)
        seconds = "-" if experiment.wall_time_s is None else f"{experiment.wall_time_s:.1f}"
        table.add_row(experiment.spec.algorithm, str(summary.episodes), f"{summary.first:.2f}", f"{summary.last:.2f}",
                      f"{summary.best:.2f}", f"{summary.improvement:+.2f}", seconds)
    return table


def _finish(run_dir: Path, backend: str, experiments: Sequence[_Experiment], interrupted: bool) -> None:
    """The learning curve and summary of the whole run, then the exit status (130 when interrupted)."""
    from heron.runs.metrics import read_returns
    from heron.runs.plots import plot_learning_curves
    from heron.training.registry import reference_return

    spec = experiments[0].spec
    curves = {f"{algorithm} ({name})": values for (name, algorithm), values in read_returns(run_dir).items()}
    reference = reference_return(spec.env_name, **spec.env_kwargs)
    references = {"reference controller": reference} if reference is not None else {}
    plot_learning_curves(run_dir / "learning_curve.png", curves, references)
    console.print(_summary_table(run_dir, backend, experiments, f"{spec.env_name} ({backend}): team return per "
                                                                "episode"))
    if reference is not None:
        console.print(f"Reference controller: {reference:.2f} (mean team return over 20 evaluation episodes)")
    console.print(f"Run written to [bold]{run_dir}[/bold] (config.json, metrics.csv, tensorboard/, checkpoints/, "
                  f"learning_curve.png); TensorBoard: tensorboard --logdir {run_dir.parent}")
    if interrupted:
        console.print(f"[yellow]Interrupted: the last checkpoint was saved; continue with heron train --resume "
                      f"{run_dir}[/yellow]")
        sys.exit(130)


# ---------------------------------------------------------------- command
@click.command()
@click.option("--backend", default=DEFAULT_BACKEND, show_default=True, help="Installed backend to train with.")
@click.option(
    "--algo",
    "algorithms",
    type=HintedChoice([*ALGORITHMS, "all"]),
    default="all",
    show_default=True,
    help="Algorithm; 'all' trains each and compares them.",
)
@click.option("--env", "env_name", default=DEFAULT_ENV, show_default=True, help="Registered environment name.")
@click.option("--env-arg", multiple=True, metavar="KEY=VALUE", help="Environment argument, e.g. num_rooms=10.")
@click.option("--episodes", type=int, default=None,
              help="Training episodes per algorithm (backend default when omitted); with --resume, the new total.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--set", "hyperparams", multiple=True, metavar="KEY=VALUE", help="Backend hyper-parameter.")
@click.option("--out", "out_root", default="runs", show_default=True, type=click.Path(file_okay=False))
@click.option("--resume", "resume_dir", metavar="RUN_DIR",
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Continue the run in RUN_DIR from its last checkpoints, with the specs of its config.json.")
@click.option("--checkpoint-every", type=int, default=DEFAULT_CHECKPOINT_EVERY, show_default=True, metavar="N",
              help="Save a checkpoint after the first update that ends N or more episodes after the previous one "
                   "(1: after every update); the end of training always saves.")
@click.option("--ray-address", metavar="ADDRESS",
              help="Ray cluster to train on, for Ray-based backends such as rllib (like setting RAY_ADDRESS); "
                   "an address where nothing answers fails within 30 s.")
@click.pass_context
def train(
    ctx: click.Context,
    backend: str,
    algorithms: str,
    env_name: str,
    env_arg: Sequence[str],
    episodes: int | None,
    seed: int,
    hyperparams: Sequence[str],
    out_root: str,
    resume_dir: Path | None,
    checkpoint_every: int,
    ray_address: str | None,
) -> None:
    """Train on an environment, writing a run folder as training goes.

    \b
    RUN_DIR (under --out) holds config.json, metrics.csv (a row per episode),
    tensorboard/<algorithm>/ (tensorboard --logdir runs), checkpoints/<algorithm>/
    and learning_curve.png. After a crash or Ctrl-C, heron evaluate RUN_DIR
    uses the last checkpoints and heron train --resume RUN_DIR continues:
    the manual backend's continuation equals an uninterrupted run.
    """
    from heron.runs.folder import new_run_dir, write_run_config
    from heron.runs.metrics import MetricsLog

    for value, option in ((episodes, "--episodes"), (checkpoint_every, "--checkpoint-every")):
        if value is not None and value < 1:
            raise click.BadParameter(f"must be a positive integer, got {value}", param_hint=option)
    if ray_address is not None:
        os.environ["RAY_ADDRESS"] = ray_address  # read by Ray when the backend connects
    if resume_dir is not None:
        _refuse_spec_options(ctx)
        backend, experiments = _resumed_experiments(resume_dir, episodes)
        run_dir = resume_dir
        metrics = MetricsLog.resume(run_dir, _agent_ids(experiments[0].spec),
                                    {e.spec.algorithm: e.episodes for e in experiments})
        console.print(f"Resuming {run_dir} with backend {backend!r} ({_provider(backend)})")
        for experiment in experiments:
            console.print(f"  {experiment.spec.algorithm}: " + _resume_state(experiment))
        if episodes is not None:
            write_run_config(run_dir, backend, [experiment.spec for experiment in experiments])
        interrupted = _Session(run_dir, backend, checkpoint_every, resuming=True).run(experiments, metrics)
        _finish(run_dir, backend, experiments, interrupted)
        return

    experiments = _new_experiments(backend, algorithms, env_name, _parse_pairs(env_arg, "--env-arg"), episodes, seed,
                                   _parse_pairs(hyperparams, "--set"))
    agent_ids = _agent_ids(experiments[0].spec)
    run_dir = new_run_dir(out_root, f"{env_name}-{backend}")
    session = _Session(run_dir, backend, checkpoint_every, resuming=False)
    try:
        console.print(f"Training {', '.join(e.spec.algorithm for e in experiments)} on {env_name} with backend "
                      f"{backend!r} ({_provider(backend)}), seed {seed}: {run_dir}")
        write_run_config(run_dir, backend, [experiment.spec for experiment in experiments])
        interrupted = session.run(experiments, MetricsLog.create(run_dir, agent_ids))
    except BaseException:
        if not session.episodes_written:
            shutil.rmtree(run_dir, ignore_errors=True)  # a run that never trained leaves no folder
        raise
    if not session.episodes_written:
        shutil.rmtree(run_dir, ignore_errors=True)
        if not interrupted:
            raise BackendError(f"backend {backend!r}: train() returned without reporting an episode")
        console.print("[yellow]Interrupted before the first episode: no run folder was kept.[/yellow]")
        sys.exit(130)
    _finish(run_dir, backend, experiments, interrupted)


def _resume_state(experiment: _Experiment) -> str:
    if experiment.trainer is None:
        return f"finished ({experiment.episodes} episodes), not trained again"
    if not experiment.restored:
        return "no checkpoint yet, training from scratch"
    return f"continuing from episode {experiment.episodes}"
