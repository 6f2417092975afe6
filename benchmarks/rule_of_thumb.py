"""The seed's rule of thumb, measured: IPPO against MAPPO on homogeneous and heterogeneous agents.

"Use MAPPO for homogeneous agents, IPPO when agents have different roles." This trains, with each
backend's default settings and budget (300 episodes):

* ``ippo``: one policy per acting agent;
* ``mappo per kind``: one policy per kind of agent (``policy_sharing="per_kind"``, the default);
* ``mappo shared by all``: one policy for every acting agent (``policy_sharing="all"``);

on the homogeneous two-room ``thermostat`` (one kind: both MAPPO forms are the same algorithm) and the
heterogeneous ``microgrid`` (feeders with a continuous budget, generators with a discrete commitment),
several seeds each, and prints a Markdown table per backend: the trained policies' evaluation return
(mean +- std over seeds, deterministic actions, the same evaluation episodes as the reference), how
many seeds beat the reference controller, the training episodes until the 20-episode moving average of
the *training* returns (exploration included) first reaches the reference's return, and the wall time.
A form a backend cannot build (``ConfigError``) is shown with the reason. Every run is also written to
a CSV (``--csv``), one row per run.

    python benchmarks/rule_of_thumb.py [--backends manual rllib] [--seeds 5] [--rllib-seeds 2]
                                       [--eval-episodes 20] [--csv rule_of_thumb.csv]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from common import machine, markdown_table

from heron.cli import fix_hash_seed
from heron.core.errors import ConfigError
from heron.evaluation.episodes import evaluate_policies
from heron.training import SUMMARY_WINDOW, ExperimentSpec, make_env, make_trainer, reference_return

EVAL_SEED = 1000  # heron train's reference line uses the same evaluation episodes
ENVS = ("thermostat", "microgrid")
FORMS = {  # name -> (algorithm, hyperparams)
    "ippo": ("ippo", {}),
    "mappo per kind": ("mappo", {"policy_sharing": "per_kind"}),
    "mappo shared by all": ("mappo", {"policy_sharing": "all"}),
}


@dataclass
class Outcome:
    """One training run, or the reason it could not be built (``refused``)."""

    backend: str
    env: str
    form: str
    seed: int
    evaluation: float | None = None
    episodes_to_reference: int | None = None
    episodes: int = 0
    wall_s: float = 0.0
    refused: str = ""


def train(backend: str, env: str, form: str, seed: int, reference: float, eval_episodes: int) -> Outcome:
    """Train one form with the backend's defaults, noting when the training curve first reaches ``reference``."""
    algorithm, hyperparams = FORMS[form]
    outcome = Outcome(backend, env, form, seed)
    try:
        trainer = make_trainer(ExperimentSpec(env=env, algorithm=algorithm, seed=seed, hyperparams=hyperparams),
                               backend)
    except ConfigError as exc:
        outcome.refused = str(exc)
        return outcome
    returns: list[float] = []

    def progress(record) -> None:
        returns.append(record.team_return)
        window = returns[-SUMMARY_WINDOW:]
        if outcome.episodes_to_reference is None and len(window) == SUMMARY_WINDOW and np.mean(window) >= reference:
            outcome.episodes_to_reference = record.episode

    started = time.perf_counter()
    try:
        trainer.train(progress=progress)
        outcome.wall_s = time.perf_counter() - started
        outcome.evaluation = float(np.mean(evaluate_policies(make_env(env), trainer.policies(), eval_episodes,
                                                             EVAL_SEED)))
    finally:
        close = getattr(trainer, "close", None)
        if close is not None:
            close()
    outcome.episodes = len(returns)
    return outcome


def summary_rows(outcomes: Sequence[Outcome], references: dict[str, float]) -> list[list[object]]:
    """One row per (env, form): return mean +- std, seeds beating the reference, episodes to it, wall time."""
    rows: list[list[object]] = []
    for env in ENVS:
        for form in FORMS:
            runs = [o for o in outcomes if o.env == env and o.form == form]
            if not runs:
                continue
            if runs[0].refused:
                rows.append([env, form, f"{references[env]:.2f}", "refused (below)", "", "", ""])
                continue
            scores = np.array([o.evaluation for o in runs])
            reached = [o.episodes_to_reference for o in runs if o.episodes_to_reference is not None]
            to_reference = f"{np.mean(reached):.0f} ({len(reached)}/{len(runs)} reached)" if reached else (
                f"- (0/{len(runs)} reached)")
            rows.append([
                env, form, f"{references[env]:.2f}", f"{scores.mean():.2f} +- {scores.std():.2f}",
                f"{int((scores > references[env]).sum())}/{len(runs)}", to_reference,
                f"{np.mean([o.wall_s for o in runs]):.1f}",
            ])
    return rows


def write_csv(outcomes: Iterable[Outcome], path: Path) -> None:
    rows = [asdict(outcome) for outcome in outcomes]
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def run(args: argparse.Namespace) -> list[Outcome]:
    """Train every (backend, env, form, seed) and print one table per backend."""
    references = {env: reference_return(env, args.eval_episodes, EVAL_SEED) for env in ENVS}
    print(f"Machine: {machine()}. Each backend's default settings, 300 training episodes per run; evaluation: "
          f"{args.eval_episodes} episodes from seed {EVAL_SEED}, deterministic actions, the same for the reference.\n")
    outcomes: list[Outcome] = []
    for backend in args.backends:
        seeds = range(args.seeds if backend == "manual" else args.rllib_seeds)
        mine = [train(backend, env, form, seed, references[env], args.eval_episodes)
                for env in ENVS for form in FORMS for seed in seeds]
        outcomes += mine
        print(f"### {backend} backend ({len(seeds)} seeds)\n")
        print(markdown_table(["env", "form", "reference", "return (mean +- std)", "seeds above reference",
                              "episodes to reference", "wall s (mean)"], summary_rows(mine, references)))
        refused = {(o.env, o.form): o.refused for o in mine if o.refused}
        print("".join(f"\n- {env}, {form}: {reason}" for (env, form), reason in refused.items()))
        print()
    if args.csv:
        write_csv(outcomes, args.csv)
    return outcomes


def report(quick: bool = False) -> str:
    """The tables as one Markdown section (``quick``: 2 manual seeds, 1 RLlib seed)."""
    backends, skipped = ["manual"], ""
    try:
        import heron.backends.rllib  # noqa: F401  (the RLlib rows need the backend)
    except ImportError as exc:
        skipped = f"RLlib backend skipped: {exc}.\n"
    else:
        backends.append("rllib")
    args = argparse.Namespace(backends=backends, seeds=2 if quick else 5, rllib_seeds=1 if quick else 2,
                              eval_episodes=10 if quick else 20, csv=None)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        run(args)
    return ("## The rule of thumb: IPPO and MAPPO on homogeneous and heterogeneous agents\n\n" + buffer.getvalue()
            + skipped)


def main() -> None:
    fix_hash_seed()  # RLlib results repeat run to run
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", choices=["manual", "rllib"], default=["manual", "rllib"])
    parser.add_argument("--seeds", type=int, default=5, help="seeds per form on the manual backend")
    parser.add_argument("--rllib-seeds", type=int, default=2, help="seeds per form on the RLlib backend")
    parser.add_argument("--eval-episodes", type=int, default=20)
    parser.add_argument("--csv", type=Path, help="also write one row per run to this CSV file")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
