"""MAPPO on the manual backend at size: a 1,000-room thermostat and a microgrid of about 100 devices.

Prints Markdown tables:

1. *To the reference.* MAPPO with the default settings trains until the 20-episode moving average of
   its training returns reaches the reference controller's return (``StopCriteria.target_return``, at
   most ``--max-episodes``); then its deterministic policies and the reference are evaluated on the same
   episodes. Wall time, episodes, and agent-steps per second (env steps times the number of agents,
   the devices without actions included).
2. *Linearity.* A fixed budget of ``--probe-episodes`` MAPPO episodes on thermostats of 10, 100 and 1,000
   rooms: microseconds of training per agent-step, and its ratio to the 10-room figure (flat means the
   cost grows linearly with the number of agents); next to it, stepping the env alone with constant
   actions, measured in the same run, and the share of training time that is env stepping.

    python benchmarks/scale.py [--max-episodes 400] [--probe-episodes 20] [--eval-episodes 5]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from common import machine, markdown_table

from heron.evaluation.episodes import evaluate_policies
from heron.training import SUMMARY_WINDOW, ExperimentSpec, make_env, make_trainer, reference_return

EVAL_SEED = 1000
CASES = {  # name -> (env, env arguments)
    "thermostat, 1000 rooms": ("thermostat", {"num_rooms": 1000}),
    "microgrid, 16 feeders of 6 devices, 2 generators": (
        "microgrid", {"num_coordinators": 16, "num_generators": 2}),
}
PROBE_ROOMS = (10, 100, 1000)


@dataclass
class Training:
    agents: int
    acting: int
    episodes: int
    env_steps: int
    wall_s: float
    reached: bool

    @property
    def agent_steps_per_s(self) -> float:
        return self.env_steps * self.agents / self.wall_s


def mappo(name: str, env_kwargs: dict[str, Any], stop: dict[str, Any]) -> tuple[Training, Any]:
    """Train MAPPO with the default settings until ``stop``; the training figures and the trainer."""
    env = make_env(name, **env_kwargs)
    trainer = make_trainer(ExperimentSpec(env=name, env_kwargs=env_kwargs, algorithm="mappo", stop=stop), "manual")
    started = time.perf_counter()
    result = trainer.train()
    wall = time.perf_counter() - started
    target = stop.get("target_return")
    window = result.returns[-SUMMARY_WINDOW:]
    reached = target is not None and len(window) == SUMMARY_WINDOW and float(np.mean(window)) >= target
    training = Training(len(env.all_agents), len(env.possible_agents), len(result.episodes), result.env_steps, wall,
                        reached)
    return training, trainer


def to_reference(args: argparse.Namespace) -> list[list[object]]:
    rows = []
    for case, (name, env_kwargs) in CASES.items():
        env = make_env(name, **env_kwargs)
        reference = reference_return(name, args.eval_episodes, EVAL_SEED, **env_kwargs)
        training, trainer = mappo(name, env_kwargs, {"episodes": args.max_episodes, "target_return": reference})
        learned = float(np.mean(evaluate_policies(env, trainer.policies(), args.eval_episodes, EVAL_SEED)))
        episodes = f"{training.episodes}" if training.reached else f"not reached in {training.episodes}"
        rows.append([case, training.agents, training.acting, f"{reference:.1f}", episodes, f"{training.wall_s:.1f}",
                     f"{training.agent_steps_per_s:,.0f}", f"{learned:.1f}"])
    return rows


def raw_agent_step_us(num_rooms: int, steps: int) -> float:
    """Microseconds per agent-step of the thermostat stepped alone with constant actions."""
    env = make_env("thermostat", num_rooms=num_rooms)
    actions = {aid: np.array([0.3]) for aid in env.possible_agents}
    env.reset(seed=0)
    started = time.perf_counter()
    for step in range(steps):
        if step and step % env.max_steps == 0:
            env.reset(seed=step)
        env.step(actions)
    return (time.perf_counter() - started) / (steps * num_rooms) * 1e6


def linearity(args: argparse.Namespace) -> list[list[object]]:
    rows, base = [], None
    for rooms in PROBE_ROOMS:
        training, _ = mappo("thermostat", {"num_rooms": rooms}, {"episodes": args.probe_episodes})
        train_us = 1e6 / training.agent_steps_per_s
        env_us = raw_agent_step_us(rooms, max(50, 100_000 // rooms))
        base = base or train_us
        rows.append([rooms, f"{train_us:.2f}", f"{train_us / base:.2f}", f"{env_us:.2f}", f"{env_us / train_us:.2f}"])
    return rows


def run(args: argparse.Namespace) -> None:
    print(f"Machine: {machine()}. Manual backend, MAPPO (one policy per kind, centralized critic), default settings.\n")
    print(f"### Training to the reference controller's return (evaluation: {args.eval_episodes} episodes from seed "
          f"{EVAL_SEED})\n")
    print(markdown_table(["env", "agents", "acting", "reference return", "episodes to reference", "wall s",
                          "agent-steps/s", "trained return"], to_reference(args)))
    print(f"\n### Cost per agent-step ({args.probe_episodes} MAPPO episodes per size)\n")
    print(markdown_table(["rooms", "training us/agent-step", "vs 10 rooms", "env alone us/agent-step",
                          "env share of training"], linearity(args)))


def report(quick: bool = False) -> str:
    """The tables as one Markdown section (``quick``: a smaller training budget)."""
    args = argparse.Namespace(max_episodes=100 if quick else 400, probe_episodes=8 if quick else 20,
                              eval_episodes=2 if quick else 5)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        run(args)
    return "## Scale: MAPPO with hundreds of agents (manual backend)\n\n" + buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-episodes", type=int, default=400)
    parser.add_argument("--probe-episodes", type=int, default=20)
    parser.add_argument("--eval-episodes", type=int, default=5)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
