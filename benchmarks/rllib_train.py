"""Learning quality and speed of the RLlib backend with its default settings (the two-room thermostat).

Prints Markdown tables:

1. the default ``heron train --backend rllib`` as a user runs it (a subprocess: IPPO and MAPPO, 300
   episodes each, plots and checkpoints), its wall time and the returns it printed;
2. IPPO and MAPPO with the default settings on several seeds: PPO iterations, episodes and wall time
   until the 20-episode moving average of the *training* returns (exploration noise included) reaches
   the 95% mark (``reference / 0.95``, the reference being the proportional controller with gain 0.5;
   returns are negative), and the deterministic policies' evaluation return and its cost relative to
   the reference (``return / reference``: up to 1.053 is within the 95% mark);
3. whether one seed trained twice gives identical returns.

    python benchmarks/rllib_train.py [--seeds 3] [--eval-episodes 50] [--skip-cli]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import ray
from common import machine, markdown_table
from manual_train import EVAL_SEED, QUALITY, reference_returns

from heron.cli import fix_hash_seed
from heron.evaluation.episodes import evaluate_policies
from heron.training import SUMMARY_WINDOW, ExperimentSpec, make_env, make_trainer


@dataclass
class Run:
    algorithm: str
    seed: int
    wall_s: float
    iterations: int
    mark: tuple[int, int, float] | None  # (iteration, episode, seconds) when the moving average reached it
    evaluation: float
    returns: list[float]


def train(algorithm: str, seed: int, mark: float, eval_episodes: int) -> Run:
    """Train with the default budget (300 episodes) and settings, noting when the training curve reaches ``mark``."""
    trainer = make_trainer(ExperimentSpec(algorithm=algorithm, seed=seed), "rllib")
    returns: list[float] = []
    reached: list[tuple[int, int, float]] = []
    started = time.perf_counter()

    def progress(record) -> None:
        returns.append(record.team_return)
        window = returns[-SUMMARY_WINDOW:]
        if not reached and len(window) == SUMMARY_WINDOW and np.mean(window) >= mark:
            reached.append((trainer.algo.iteration, record.episode, time.perf_counter() - started))

    try:
        trainer.train(progress=progress)
        wall = time.perf_counter() - started
        evaluation = float(np.mean(evaluate_policies(make_env("thermostat"), trainer.policies(), eval_episodes,
                                                     EVAL_SEED)))
        iterations = trainer.algo.iteration
    finally:
        trainer.close()
    return Run(algorithm, seed, wall, iterations, reached[0] if reached else None, evaluation, returns)


def default_cli() -> tuple[float, int, str]:
    """Wall time, exit code and summary table of ``heron train --backend rllib`` in a fresh process."""
    heron = shutil.which("heron", path=str(Path(sys.executable).parent)) or "heron"
    with tempfile.TemporaryDirectory() as directory:
        started = time.perf_counter()
        done = subprocess.run([heron, "train", "--backend", "rllib"], cwd=directory, capture_output=True, text=True)
        seconds = time.perf_counter() - started
    table = "\n".join(line for line in done.stdout.splitlines() if line.startswith(("┃", "│", "┏", "┗", "┡", "└")))
    return seconds, done.returncode, table


def fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def run(args: argparse.Namespace) -> None:
    print(f"{machine()}; Ray {ray.__version__}\n")
    references = reference_returns(2, args.eval_episodes)
    mark = references[0.5] / QUALITY
    print(f"Reference (proportional controller, gain 0.5, {args.eval_episodes} episodes from seed {EVAL_SEED}): "
          f"{references[0.5]:.2f}; 95% mark {mark:.2f}.\n")

    if not args.skip_cli:
        seconds, code, table = default_cli()
        print(f"### Default `heron train --backend rllib` (subprocess, IPPO and MAPPO, 300 episodes each)\n\n"
              f"wall time {seconds:.1f} s (Ray start included), exit code {code}\n\n```\n{table}\n```\n")

    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        runs = [train(algorithm, seed, mark, args.eval_episodes) for algorithm in ("mappo", "ippo")
                for seed in range(args.seeds)]
        again = train("mappo", 0, mark, 1)
    finally:
        if started:
            ray.shutdown()
    print("### Default settings, 300 training episodes (10 per PPO iteration)\n")
    rows = [
        [run.algorithm, run.seed, f"{run.wall_s:.1f}", run.iterations,
         fmt(run.mark[0] if run.mark else None, "d"), fmt(run.mark[1] if run.mark else None, "d"),
         fmt(run.mark[2] if run.mark else None), f"{np.mean(run.returns[-SUMMARY_WINDOW:]):.2f}",
         f"{run.evaluation:.2f}", f"{run.evaluation / references[0.5]:.3f}"]
        for run in runs
    ]
    print(markdown_table(["algorithm", "seed", "wall (s)", "iterations", "iterations to 95%", "episodes to 95%",
                          "s to 95%", f"last {SUMMARY_WINDOW} training", "eval return", "cost vs reference"], rows))
    print()
    for algorithm in ("mappo", "ippo"):
        mine = [run for run in runs if run.algorithm == algorithm]
        evaluations = [run.evaluation for run in mine]
        print(f"- {algorithm}: eval return {np.mean(evaluations):.2f} +- {np.std(evaluations):.2f}; "
              f"{sum(e >= mark for e in evaluations)}/{len(mine)} seeds evaluate at or above the 95% mark; "
              f"{sum(run.mark is not None for run in mine)}/{len(mine)} training curves reach it")
    identical = again.returns == next(run for run in runs if run.algorithm == "mappo" and run.seed == 0).returns
    print(f"- MAPPO seed 0 trained twice gives identical returns: {'yes' if identical else 'NO'}")


def report(quick: bool = False) -> str:
    """The tables as one Markdown section (``quick``: one seed, no CLI run)."""
    args = argparse.Namespace(seeds=1 if quick else 3, eval_episodes=10 if quick else 50, skip_cli=quick)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        run(args)
    return "## RLlib backend: learning quality and speed\n\n" + buffer.getvalue()


def main() -> None:
    fix_hash_seed()  # RLlib results repeat run to run
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--eval-episodes", type=int, default=50)
    parser.add_argument("--skip-cli", action="store_true", help="do not time the `heron train` subprocess")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
