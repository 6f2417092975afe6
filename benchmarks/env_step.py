"""Cost of ``DefaultHeronEnv.step`` against the same dynamics written as one plain Python function.

Prints two tables: the two-room env against the plain step (the ratio is
the env layer's overhead; target <= 3x), and the cost per step with 2, 10,
100 and 1000 rooms (target: linear in the number of agents). Both sides
run in the same process, one after the other, several times; the median
is reported.

    python benchmarks/env_step.py [--steps 20000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np

from heron.envs import make_env
from heron.envs.thermostat import (
    AMBIENT_TEMPERATURE,
    COOLING_RATE,
    HEATING_GAIN,
    LEAKAGE_RATE,
    TARGET_TEMPERATURE,
    TEMPERATURE_BOUNDS,
)


def plain_step_factory(agent_ids: list[str], max_steps: int) -> Callable[[dict], tuple]:
    """The thermostat dynamics as one function: action arrays in, Gymnasium-style dicts out."""
    temps = dict.fromkeys(agent_ids, 20.0)
    counter = [0]
    low, high = TEMPERATURE_BOUNDS

    def step(actions: dict[str, np.ndarray]) -> tuple:
        for aid, action in actions.items():
            value = float(action[0])
            if not -1.0 <= value <= 1.0:
                value = min(max(value, -1.0), 1.0)
            temps[aid] = min(max(temps[aid] + HEATING_GAIN * value, low), high)
        mean = sum(temps.values()) / len(temps)
        for aid, temp in temps.items():
            temps[aid] = temp + COOLING_RATE * (AMBIENT_TEMPERATURE - temp) + LEAKAGE_RATE * (mean - temp)
        counter[0] += 1
        done = counter[0] >= max_steps
        if done:
            counter[0] = 0
        observations = {aid: np.array([temp], dtype=np.float32) for aid, temp in temps.items()}
        rewards = {aid: -abs(temp - TARGET_TEMPERATURE) for aid, temp in temps.items()}
        terminated = dict.fromkeys(temps, False)
        terminated["__all__"] = False
        truncated = dict.fromkeys(temps, done)
        truncated["__all__"] = done
        return observations, rewards, terminated, truncated, {aid: {} for aid in temps}

    return step


def time_env(num_rooms: int, steps: int) -> float:
    """Seconds per ``env.step`` (resets excluded)."""
    env = make_env("thermostat", num_rooms=num_rooms, max_steps=10**9)
    env.reset(seed=0)
    actions = {aid: np.array([0.1]) for aid in env.agents}
    start = time.perf_counter()
    for _ in range(steps):
        env.step(actions)
    return (time.perf_counter() - start) / steps


def time_plain(num_rooms: int, steps: int) -> float:
    """Seconds per plain step."""
    env = make_env("thermostat", num_rooms=num_rooms)
    step = plain_step_factory(env.possible_agents, max_steps=10**9)
    actions = {aid: np.array([0.1]) for aid in env.possible_agents}
    start = time.perf_counter()
    for _ in range(steps):
        step(actions)
    return (time.perf_counter() - start) / steps


def median_of(repeats: int, fn: Callable[[], float]) -> float:
    return statistics.median(fn() for _ in range(repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20000, help="steps per timing of the two-room env")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")

    env_s = median_of(args.repeats, lambda: time_env(2, args.steps))
    plain_s = median_of(args.repeats, lambda: time_plain(2, args.steps))
    print("\n| two-room step | us/step | ratio to plain |")
    print("|---|---:|---:|")
    print(f"| plain Python function | {plain_s * 1e6:.2f} | 1.00 |")
    print(f"| DefaultHeronEnv.step | {env_s * 1e6:.2f} | {env_s / plain_s:.2f} |")

    print("\n| rooms | env us/step | us/step/agent | plain us/step | ratio to plain |")
    print("|---:|---:|---:|---:|---:|")
    for rooms in (2, 10, 100, 1000):
        steps = max(20, args.steps * 2 // rooms)
        env_t = median_of(args.repeats, lambda rooms=rooms, steps=steps: time_env(rooms, steps))
        plain_t = median_of(args.repeats, lambda rooms=rooms, steps=steps: time_plain(rooms, steps))
        print(
            f"| {rooms} | {env_t * 1e6:.1f} | {env_t * 1e6 / rooms:.2f} | {plain_t * 1e6:.1f} | {env_t / plain_t:.2f} |"
        )


if __name__ == "__main__":
    main()
