"""Cost of ``DefaultHeronEnv.step`` against the same dynamics written as one plain Python function.

Two tables: the two-room env against the plain step (the ratio is the env
layer's overhead; target <= 3x), and the cost per step with 2, 10, 100 and
1000 rooms (target: linear in the number of agents). The built-in thermostat
uses an in-place simulation; the same env with the dict-contract simulation
(a copy of the state in, the next state out) is measured beside it, and so is
the same dynamics written the way upstream HERON's tutorials write an agent
(overrides of ``set_action``, ``set_state`` and a feature's ``set_values``, a
dict-in/dict-out simulation, a coordinator without protocol). All sides run
in the same process in short chunks, in turn, many times; medians and the
median of the per-chunk ratios are reported.

    python benchmarks/env_step.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from common import alternating_times, machine, markdown_table, median_ratio, per_call

from heron.agents import CoordinatorAgent, FieldAgent, SystemAgent
from heron.core import Action, Feature
from heron.demo_envs.thermostat import (
    AMBIENT_TEMPERATURE,
    COOLING_RATE,
    HEATING_GAIN,
    LEAKAGE_RATE,
    TARGET_TEMPERATURE,
    TEMPERATURE_BOUNDS,
    room_ids,
)
from heron.envs import AgentStates, BaseEnv, DefaultHeronEnv, SimulationFn, build_env
from heron.training import make_env_config


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


@dataclass(slots=True)
class UpstreamRoomTemp(Feature):
    """The room temperature feature as upstream's tutorials write one: with a ``set_values(**kwargs)`` override."""

    visibility: ClassVar[Sequence[str]] = ["public"]
    temp: float = 20.0

    def set_values(self, **kwargs: Any) -> None:
        if "temp" in kwargs:
            self.temp = float(kwargs["temp"])


class UpstreamThermostat(FieldAgent):
    """The thermostat as upstream's tutorials write an agent (every method they override, same dynamics)."""

    def init_action(self, features: list[Feature] = []) -> Action:  # noqa: B006 - upstream's signature
        action = Action()
        action.set_specs(dim_c=1, range=(np.array([-1.0]), np.array([1.0])))
        return action

    def set_action(self, action: Any, *args: Any, **kwargs: Any) -> None:
        self.action.set_values(action)

    def set_state(self, **kwargs: Any) -> None:
        if "temp" in kwargs:
            self.state.features["UpstreamRoomTemp"].set_values(temp=kwargs["temp"])

    def apply_action(self) -> None:  # the tutorial's, with min/max for np.clip (as the plain function has)
        feature = self.state.features["UpstreamRoomTemp"]
        new_temp = feature.temp + self.action.c[0] * HEATING_GAIN
        feature.set_values(temp=float(min(max(new_temp, TEMPERATURE_BOUNDS[0]), TEMPERATURE_BOUNDS[1])))

    def compute_local_reward(self, local_state: dict, prev_post_physics_state: Any = None) -> float:
        return -abs(float(local_state["UpstreamRoomTemp"][0]) - TARGET_TEMPERATURE)


def upstream_simulation(agent_states: dict) -> dict:
    """The thermostat's cooling and leakage as upstream's tutorials write a simulation function."""
    rooms = {aid: features["UpstreamRoomTemp"]["temp"] for aid, features in agent_states.items()
             if "UpstreamRoomTemp" in features}
    mean = sum(rooms.values()) / len(rooms)
    for aid, temp in rooms.items():
        agent_states[aid]["UpstreamRoomTemp"]["temp"] = (
            temp + COOLING_RATE * (AMBIENT_TEMPERATURE - temp) + LEAKAGE_RATE * (mean - temp)
        )
    return agent_states


def upstream_style_env(num_rooms: int) -> DefaultHeronEnv:
    """Built upstream's way: a system agent, a coordinator without protocol, ``hierarchy``, ``simulation_func``."""
    rooms = [UpstreamThermostat(agent_id=aid, features=[UpstreamRoomTemp()]) for aid in room_ids(num_rooms)]
    return DefaultHeronEnv(
        agents=[SystemAgent(), CoordinatorAgent(agent_id="building"), *rooms],
        hierarchy={"system_agent": ["building"], "building": [room.agent_id for room in rooms]},
        simulation_func=upstream_simulation,
        env_id="upstream_style",
        max_steps=10**9,
    )


def thermostat_env(num_rooms: int, simulation: SimulationFn | None = None, **config: object):
    """The built-in thermostat env, optionally with another simulation function."""
    env_config = make_env_config("thermostat", num_rooms=num_rooms, max_steps=10**9, **config)
    if simulation is not None:
        env_config["simulation"] = simulation
    return build_env(env_config)


def check_same_dynamics(num_rooms: int = 3, steps: int = 20) -> None:
    """All sides compute the same temperatures from 20 C (else the comparison means nothing)."""
    envs: list[BaseEnv] = [thermostat_env(num_rooms, simulation, initial_range=None)
                           for simulation in (None, dict_contract_simulation)]
    envs.append(upstream_style_env(num_rooms))
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


def env_stepper(num_rooms: int, simulation: SimulationFn | None = None, upstream: bool = False) -> Callable[[], object]:
    """One ``env.step`` with constant actions per call, on a reset env (``upstream``: the upstream-style env)."""
    env = upstream_style_env(num_rooms) if upstream else thermostat_env(num_rooms, simulation)
    env.reset(seed=0)
    actions = {aid: np.array([0.1]) for aid in env.agents}
    return lambda: env.step(actions)


def plain_stepper(num_rooms: int) -> Callable[[], object]:
    """One call of the plain step function with constant actions per call."""
    agent_ids = room_ids(num_rooms)
    step = plain_step_factory(agent_ids)
    actions = {aid: np.array([0.1]) for aid in agent_ids}
    return lambda: step(actions)


def chunk_times(steppers: list[Callable[[], object]], steps: int, repeats: int) -> tuple[list[float], ...]:
    """Seconds per step of each stepper: ``repeats`` chunks of ``steps`` steps, the steppers in turn.

    Short chunks taken in turn keep a burst of load on the shared machine from landing on one side only.
    """
    return alternating_times(*[lambda stepper=stepper: per_call(stepper, steps) for stepper in steppers],
                             repeats=repeats)


def step_figures(times: list[float], plain_times: list[float]) -> tuple[str, str, str, str]:
    """Median and best us/step, then the two ratios to the plain function."""
    return (f"{statistics.median(times) * 1e6:.2f}", f"{min(times) * 1e6:.2f}",
            f"{median_ratio(times, plain_times):.2f}", f"{min(times) / min(plain_times):.2f}")


def agent_counts(stepper_env: BaseEnv | None) -> str:
    """``"all (acting)"`` agents of a measured side (the plain function: its two rooms)."""
    if stepper_env is None:
        return "2 (2)"
    return f"{len(stepper_env.all_agents)} ({len(stepper_env.possible_agents)})"


def report(quick: bool = False) -> str:
    agent_steps, repeats = (2000, 10) if quick else (2000, 60)
    check_same_dynamics()
    env_times, dict_times, upstream_times, plain_times = chunk_times(
        [env_stepper(2), env_stepper(2, dict_contract_simulation), env_stepper(2, upstream=True), plain_stepper(2)],
        agent_steps // 2, repeats,
    )
    counts = [agent_counts(env) for env in (None, thermostat_env(2), thermostat_env(2), upstream_style_env(2))]
    overhead = markdown_table(
        ["two-room step", "agents (acting)", "us/step (median)", "us/step (best chunk)",
         "ratio to plain (median of per-chunk ratios)", "ratio of best chunks"],
        [("plain Python function", counts[0], *step_figures(plain_times, plain_times)),
         ("DefaultHeronEnv.step, built-in thermostat (in-place simulation)", counts[1],
          *step_figures(env_times, plain_times)),
         ("DefaultHeronEnv.step, the same with a dict-contract simulation", counts[2],
          *step_figures(dict_times, plain_times)),
         ("DefaultHeronEnv.step, the same written upstream's way (overrides, dict simulation, coordinator)",
          counts[3], *step_figures(upstream_times, plain_times))],
    )
    rows = []
    for rooms in (2, 10, 100, 1000):
        env_times, plain_times = chunk_times([env_stepper(rooms), plain_stepper(rooms)],
                                             max(5, agent_steps // rooms), repeats)
        rows.append((rooms, statistics.median(env_times), statistics.median(plain_times),
                     median_ratio(env_times, plain_times), min(env_times) / min(plain_times)))
    base = rows[0][1] / rows[0][0]
    scaling = markdown_table(
        ["rooms", "env us/step", "us/step/agent", "per-agent cost vs 2 rooms", "plain us/step",
         "ratio to plain (median)", "ratio of best chunks"],
        [(r, f"{e * 1e6:.1f}", f"{e * 1e6 / r:.2f}", f"{e / r / base:.2f}", f"{p * 1e6:.1f}", f"{ratio:.2f}",
          f"{best:.2f}") for r, e, p, ratio, best in rows],
    )
    return (
        f"## Env step cost\n\nMachine: {machine()}. {repeats} chunks of {agent_steps} agent-steps per side, "
        "the sides in turn. Medians with the median of the per-chunk ratios, and the best chunks with their "
        "ratio (timeit's convention: the fastest run is the least disturbed by other load). All sides "
        "compute the same temperatures (checked first).\n\n"
        f"{overhead}\n\nScaling with the number of agents, built-in thermostat "
        f"(linear means a flat per-agent cost):\n\n{scaling}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and repeats")
    print(report(parser.parse_args().quick))


if __name__ == "__main__":
    main()
