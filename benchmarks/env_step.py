"""Cost of ``DefaultHeronEnv.step`` against the same dynamics written as one plain Python function.

Two tables: the two-room env against the plain step (the ratio is the env
layer's overhead; target <= 3x), and the cost per step with 2, 10, 100 and
1000 rooms (target: linear in the number of agents). The built-in thermostat
uses an in-place simulation; the same env with the dict-contract simulation
(a copy of the state in, the next state out) is measured beside it. All sides
run in the same process, in turn, several times; medians and the median of
the per-pair ratios are reported.

    python benchmarks/env_step.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable

import numpy as np
from common import alternating_times, machine, markdown_table, median_ratio, per_call

from heron.envs import AgentStates, SimulationFn, build_env, make_env_config
from heron.envs.thermostat import (
    AMBIENT_TEMPERATURE,
    COOLING_RATE,
    HEATING_GAIN,
    LEAKAGE_RATE,
    TARGET_TEMPERATURE,
    TEMPERATURE_BOUNDS,
)


def plain_step_factory(agent_ids: list[str]) -> Callable[[dict], tuple]:
    """The thermostat dynamics as one function: action arrays in, Gymnasium-style dicts out."""
    temps = dict.fromkeys(agent_ids, 20.0)
    low, high = TEMPERATURE_BOUNDS

    def step(actions: dict[str, np.ndarray]) -> tuple:
        for aid, action in actions.items():
            value = min(max(float(action[0]), -1.0), 1.0)
            temps[aid] = min(max(temps[aid] + HEATING_GAIN * value, low), high)
        mean = sum(temps.values()) / len(temps)
        for aid, temp in temps.items():
            temps[aid] = temp + COOLING_RATE * (AMBIENT_TEMPERATURE - temp) + LEAKAGE_RATE * (mean - temp)
        observations = {aid: np.array([temp], dtype=np.float32) for aid, temp in temps.items()}
        rewards = {aid: -abs(temp - TARGET_TEMPERATURE) for aid, temp in temps.items()}
        terminated = dict.fromkeys(temps, False)
        terminated["__all__"] = False
        truncated = dict.fromkeys(temps, False)
        truncated["__all__"] = False
        return observations, rewards, terminated, truncated, {aid: {} for aid in temps}

    return step


def dict_contract_simulation(agent_states: AgentStates) -> AgentStates:
    """The thermostat's simulation written against the dict contract: a copy of the state in, the next out."""
    rooms = [state["RoomTempFeature"] for state in agent_states.values()]
    mean = sum(room["temperature"] for room in rooms) / len(rooms)
    for room in rooms:
        temperature = room["temperature"]
        room["temperature"] = (
            temperature + COOLING_RATE * (AMBIENT_TEMPERATURE - temperature) + LEAKAGE_RATE * (mean - temperature)
        )
    return agent_states


def thermostat_env(num_rooms: int, simulation: SimulationFn | None = None, **config: object):
    """The built-in thermostat env, optionally with another simulation function."""
    env_config = make_env_config("thermostat", num_rooms=num_rooms, max_steps=10**9, **config)
    if simulation is not None:
        env_config["simulation"] = simulation
    return build_env(env_config)


def check_same_dynamics(num_rooms: int = 3, steps: int = 20) -> None:
    """All three sides compute the same temperatures from 20 C (else the comparison means nothing)."""
    envs = [thermostat_env(num_rooms, simulation, initial_range=None)
            for simulation in (None, dict_contract_simulation)]
    plain = plain_step_factory(envs[0].possible_agents)
    for env in envs:
        env.reset(seed=0)
    for step in range(steps):
        actions = {aid: np.array([np.sin(step + index)]) for index, aid in enumerate(envs[0].possible_agents)}
        expected = plain(actions)[0]
        for env in envs:
            observations = env.step(actions)[0]
            for aid, obs in observations.items():
                np.testing.assert_allclose(obs.local_vector(), expected[aid], rtol=1e-6)


def env_step_seconds(num_rooms: int, steps: int, simulation: SimulationFn | None = None) -> float:
    env = thermostat_env(num_rooms, simulation)
    env.reset(seed=0)
    actions = {aid: np.array([0.1]) for aid in env.agents}
    return per_call(lambda: env.step(actions), steps)


def plain_step_seconds(num_rooms: int, steps: int) -> float:
    agent_ids = thermostat_env(num_rooms).possible_agents
    step = plain_step_factory(agent_ids)
    actions = {aid: np.array([0.1]) for aid in agent_ids}
    return per_call(lambda: step(actions), steps)


def report(quick: bool = False) -> str:
    steps, repeats = (4000, 3) if quick else (20000, 9)
    check_same_dynamics()
    env_times, dict_times, plain_times = alternating_times(
        lambda: env_step_seconds(2, steps),
        lambda: env_step_seconds(2, steps, dict_contract_simulation),
        lambda: plain_step_seconds(2, steps),
        repeats=repeats,
    )
    plain = statistics.median(plain_times)
    overhead = markdown_table(
        ["two-room step", "us/step", "ratio to plain (median of pairs)"],
        [("plain Python function", f"{plain * 1e6:.2f}", "1.00"),
         ("DefaultHeronEnv.step, built-in thermostat (in-place simulation)",
          f"{statistics.median(env_times) * 1e6:.2f}", f"{median_ratio(env_times, plain_times):.2f}"),
         ("DefaultHeronEnv.step, the same with a dict-contract simulation",
          f"{statistics.median(dict_times) * 1e6:.2f}", f"{median_ratio(dict_times, plain_times):.2f}")],
    )
    rows = []
    for rooms in (2, 10, 100, 1000):
        n = max(20, steps * 2 // rooms)
        env_times, plain_times = alternating_times(
            lambda rooms=rooms, n=n: env_step_seconds(rooms, n),
            lambda rooms=rooms, n=n: plain_step_seconds(rooms, n),
            repeats=repeats,
        )
        rows.append((rooms, statistics.median(env_times), statistics.median(plain_times),
                     median_ratio(env_times, plain_times)))
    base = rows[0][1] / rows[0][0]
    scaling = markdown_table(
        ["rooms", "env us/step", "us/step/agent", "per-agent cost vs 2 rooms", "plain us/step", "ratio to plain"],
        [(r, f"{e * 1e6:.1f}", f"{e * 1e6 / r:.2f}", f"{e / r / base:.2f}", f"{p * 1e6:.1f}", f"{ratio:.2f}")
         for r, e, p, ratio in rows],
    )
    return (
        f"## Env step cost\n\nMachine: {machine()}. {repeats} runs of each side in turn; medians, and the "
        f"median of the per-pair ratios. The three sides compute the same temperatures (checked first).\n\n"
        f"{overhead}\n\nScaling with the number of agents, built-in thermostat "
        f"(linear means a flat per-agent cost):\n\n{scaling}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and repeats")
    print(report(parser.parse_args().quick))


if __name__ == "__main__":
    main()
