"""Speed and quality of the manual backend: the default ``heron train`` and a 100-room building.

Prints markdown tables:

1. the reference controllers on the two-room thermostat (the 95% mark is
   ``reference / 0.95``: returns are negative);
2. the default ``heron train`` as a user runs it (a subprocess; target < 60 s);
3. IPPO and MAPPO with the default settings on several seeds: wall time and
   episodes until the 20-episode moving average of the *training* returns
   (exploration noise included) reaches the 95% mark, env steps per second
   (and the ratio to stepping the env alone with constant actions, measured
   in the same run), and the deterministic policies' evaluation return, also as
   its cost relative to each reference (``return / reference``: below 1 is better
   than the reference, up to 1.053 is within the 95% mark);
4. MAPPO with and without the centralized critic;
5. the same figures for the thermostat with 100 rooms.

    python benchmarks/manual_train.py [--seeds 5] [--rooms 100] [--eval-episodes 50] [--skip-cli]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from heron.demo_envs.thermostat import ProportionalController
from heron.evaluation.episodes import evaluate_policies
from heron.training import SUMMARY_WINDOW, ExperimentSpec, make_env, make_trainer

QUALITY = 0.95
EVAL_SEED = 1000


@dataclass
class Run:
    algorithm: str
    seed: int
    wall_s: float
    env_steps: int
    episodes_to_mark: int | None
    seconds_to_mark: float | None
    evaluation: float
    returns: list[float]

    @property
    def steps_per_s(self) -> float:
        return self.env_steps / self.wall_s


def reference_returns(num_rooms: int, episodes: int) -> dict[float, float]:
    env = make_env("thermostat", num_rooms=num_rooms)
    return {
        gain: float(np.mean(evaluate_policies(env, dict.fromkeys(env.possible_agents, ProportionalController(gain)),
                                              episodes, EVAL_SEED)))
        for gain in (0.5, 1.0)
    }


def train(algorithm: str, seed: int, num_rooms: int, mark: float, eval_episodes: int, **hyperparams) -> Run:
    """Train with the default budget and settings, timing when the training curve reaches ``mark``."""
    spec = ExperimentSpec(algorithm=algorithm, seed=seed, env_kwargs={"num_rooms": num_rooms}, hyperparams=hyperparams)
    trainer = make_trainer(spec, "manual")
    returns: list[float] = []
    reached: list[tuple[int, float]] = []
    started = time.perf_counter()

    def progress(record) -> None:
        returns.append(record.team_return)
        window = returns[-SUMMARY_WINDOW:]
        if not reached and len(window) == SUMMARY_WINDOW and np.mean(window) >= mark:
            reached.append((record.episode, time.perf_counter() - started))

    result = trainer.train(progress=progress)
    wall = time.perf_counter() - started
    env = make_env("thermostat", num_rooms=num_rooms)
    evaluation = float(np.mean(evaluate_policies(env, trainer.policies(), eval_episodes, EVAL_SEED)))
    episodes_to_mark, seconds_to_mark = reached[0] if reached else (None, None)
    return Run(algorithm, seed, wall, result.env_steps, episodes_to_mark, seconds_to_mark, evaluation, returns)


def raw_env_steps_per_s(num_rooms: int, steps: int) -> float:
    """Env steps per second of one env stepped with constant actions (no policy, no learning)."""
    env = make_env("thermostat", num_rooms=num_rooms)
    env.reset(seed=0)
    actions = {aid: np.array([0.3]) for aid in env.possible_agents}
    started = time.perf_counter()
    for step in range(steps):
        if step % env.max_steps == 0:
            env.reset(seed=step)
        env.step(actions)
    return steps / (time.perf_counter() - started)


def default_cli_seconds() -> tuple[float, int]:
    """Wall time of ``heron train`` (no arguments) in a fresh process and directory."""
    heron = shutil.which("heron", path=str(Path(sys.executable).parent)) or "heron"
    with tempfile.TemporaryDirectory() as directory:
        started = time.perf_counter()
        done = subprocess.run([heron, "train"], cwd=directory, capture_output=True, text=True)
        return time.perf_counter() - started, done.returncode


def fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def run_table(runs: list[Run], references: dict[float, float], raw_rate: float, num_agents: int) -> None:
    print("| algorithm | seed | wall (s) | episodes to 95% | s to 95% | env steps/s | agent steps/s "
          "| ratio to raw env | eval return | cost vs gain 0.5 | cost vs gain 1.0 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for run in runs:
        print(
            f"| {run.algorithm} | {run.seed} | {run.wall_s:.2f} | {fmt(run.episodes_to_mark, 'd')} "
            f"| {fmt(run.seconds_to_mark, '.2f')} | {run.steps_per_s:.0f} | {run.steps_per_s * num_agents:.0f} "
            f"| {run.steps_per_s / raw_rate:.2f} | {run.evaluation:.2f} "
            f"| {run.evaluation / references[0.5]:.2f} | {run.evaluation / references[1.0]:.2f} |"
        )


def quality_summary(runs: list[Run], mark: float) -> None:
    for algorithm in sorted({run.algorithm for run in runs}):
        mine = [run for run in runs if run.algorithm == algorithm]
        passed = sum(run.evaluation >= mark for run in mine)
        evaluations = [run.evaluation for run in mine]
        print(f"- {algorithm}: eval return {np.mean(evaluations):.2f} +- {np.std(evaluations):.2f}; "
              f"{passed}/{len(mine)} seeds at or above the 95% mark ({mark:.2f})")


def run(args: argparse.Namespace) -> None:
    """Print every table (see the module docstring)."""
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"numpy {np.__version__}")

    references = reference_returns(2, args.eval_episodes)
    mark = references[0.5] / QUALITY
    print(f"\n### Two rooms: reference controllers ({args.eval_episodes} episodes from seed {EVAL_SEED})\n")
    print("| controller | mean team return |\n|---|---:|")
    for gain, value in references.items():
        print(f"| proportional, gain {gain} | {value:.2f} |")
    print(f"| 95% mark of gain 0.5 | {mark:.2f} |")

    if not args.skip_cli:
        seconds, code = default_cli_seconds()
        print(f"\n### Default `heron train` (subprocess, both algorithms, plots and checkpoints)\n\n"
              f"wall time {seconds:.1f} s (target < 60 s), exit code {code}")

    raw = raw_env_steps_per_s(2, 20000)
    seeds = range(args.seeds)
    runs = [train(algorithm, seed, 2, mark, args.eval_episodes) for algorithm in ("ippo", "mappo") for seed in seeds]
    print(f"\n### Two rooms, default settings (300 episodes), raw env: {raw:.0f} steps/s\n")
    run_table(runs, references, raw, 2)
    print()
    quality_summary(runs, mark)
    again = train("mappo", 0, 2, mark, 1)
    identical = again.returns == next(run for run in runs if run.algorithm == "mappo").returns
    print(f"- seed 0 trained twice gives identical returns: {'yes' if identical else 'NO'}")

    local = [train("mappo", seed, 2, mark, args.eval_episodes, centralized_critic=False) for seed in seeds]
    central = [run for run in runs if run.algorithm == "mappo"]
    print("\n### MAPPO critic: centralized (env state) vs local (own observation)\n")
    print("| critic | eval return (mean +- std) | mean training return | episodes to 95% (mean) |")
    print("|---|---:|---:|---:|")
    for name, group in (("centralized", central), ("local", local)):
        evaluations = [run.evaluation for run in group]
        to_mark = [run.episodes_to_mark for run in group if run.episodes_to_mark is not None]
        print(f"| {name} | {np.mean(evaluations):.2f} +- {np.std(evaluations):.2f} "
              f"| {np.mean([np.mean(run.returns) for run in group]):.2f} "
              f"| {fmt(float(np.mean(to_mark)) if to_mark else None)} ({len(to_mark)}/{len(group)} reached) |")

    if args.rooms:
        big_refs = reference_returns(args.rooms, 10)
        big_mark = big_refs[0.5] / QUALITY
        big_raw = raw_env_steps_per_s(args.rooms, 2000)
        print(f"\n### {args.rooms} rooms, default settings (300 episodes, seed 0, eval over 10 episodes)\n")
        print(f"references: gain 0.5 {big_refs[0.5]:.1f}, gain 1.0 {big_refs[1.0]:.1f}; 95% mark {big_mark:.1f}; "
              f"raw env: {big_raw:.0f} steps/s\n")
        big = [train(algorithm, 0, args.rooms, big_mark, 10) for algorithm in ("ippo", "mappo")]
        run_table(big, big_refs, big_raw, args.rooms)


def report(quick: bool = False) -> str:
    """The tables as one Markdown section (``quick``: 2 seeds, no 100-room run)."""
    args = argparse.Namespace(seeds=2 if quick else 5, rooms=0 if quick else 100,
                              eval_episodes=10 if quick else 50, skip_cli=False)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        run(args)
    return "## Manual backend: speed and quality\n\n" + buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--rooms", type=int, default=100, help="size of the large building (0 skips it)")
    parser.add_argument("--eval-episodes", type=int, default=50)
    parser.add_argument("--skip-cli", action="store_true", help="do not time the `heron train` subprocess")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
