"""Overhead of RLlibBasedHeronEnv: RLlib sampling a HERON env against a hand-written MultiAgentEnv.

Both envs are the thermostat (same dynamics, same observations, checked step by step first); the same
RLlib config (PPO's default module, one shared policy, the local env runner) samples each in turn, in
the same process, and the table reports env steps per second and the adaptor's overhead: the extra
time per sampled step, ``t_heron / t_plain - 1`` (target: under 15%). The two are sampled in
alternation, and the overhead is the median over these pairs, so that load drifting on a shared
machine hits both alike. The last columns give the cost of a bare ``step()`` of each env (no RLlib),
which is where the difference comes from.

    python benchmarks/rllib_adaptor.py [--steps 1000] [--repeats 10] [--rooms 2 10]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import time

import gymnasium as gym
import numpy as np
import ray
from common import alternating_times, machine, markdown_table, median_ratio
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.env.multi_agent_env import MultiAgentEnv

from heron.adaptors.rllib import RLlibBasedHeronEnv
from heron.cli import fix_hash_seed
from heron.demo_envs.thermostat import (
    AMBIENT_TEMPERATURE,
    COOLING_RATE,
    HEATING_GAIN,
    LEAKAGE_RATE,
    TARGET_TEMPERATURE,
    TEMPERATURE_BOUNDS,
    room_ids,
    thermostat_config,
)

TARGET_OVERHEAD = 0.15


class PlainThermostatEnv(MultiAgentEnv):
    """The thermostat written directly against RLlib's MultiAgentEnv (numpy, no HERON)."""

    def __init__(self, config: dict | None = None) -> None:
        super().__init__()
        config = config or {}
        self.possible_agents = room_ids(config.get("num_rooms", 2))
        self.agents = list(self.possible_agents)
        self.max_steps = config.get("max_steps", 50)
        box = gym.spaces.Box(-np.inf, np.inf, (1,), np.float32)
        self.observation_spaces = dict.fromkeys(self.possible_agents, box)
        self.action_spaces = dict.fromkeys(self.possible_agents, gym.spaces.Box(-1.0, 1.0, (1,), np.float32))
        self.temperatures = np.full(len(self.possible_agents), 20.0)
        self.rng = np.random.default_rng()
        self.steps = 0

    def _observations(self) -> dict[str, np.ndarray]:
        values = self.temperatures.astype(np.float32)
        return {aid: values[i : i + 1] for i, aid in enumerate(self.possible_agents)}

    def reset(self, *, seed=None, options=None):
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self.temperatures = self.rng.uniform(15.0, 25.0, len(self.possible_agents))
        self.steps = 0
        return self._observations(), {aid: {} for aid in self.possible_agents}

    def step(self, action_dict):
        power = np.clip([float(action_dict[aid][0]) for aid in self.possible_agents], -1.0, 1.0)
        low, high = TEMPERATURE_BOUNDS
        heated = np.clip(self.temperatures + HEATING_GAIN * power, low, high)
        self.temperatures = (
            heated + COOLING_RATE * (AMBIENT_TEMPERATURE - heated) + LEAKAGE_RATE * (heated.mean() - heated)
        )
        self.steps += 1
        rewards = {aid: -abs(float(t) - TARGET_TEMPERATURE) for aid, t in zip(self.possible_agents, self.temperatures)}
        done = self.steps >= self.max_steps
        flags = {aid: done for aid in self.possible_agents}
        return (self._observations(), rewards, {**dict.fromkeys(self.possible_agents, False), "__all__": False},
                {**flags, "__all__": done}, {aid: {} for aid in self.possible_agents})


def check_identical_dynamics(num_rooms: int, steps: int = 120) -> None:
    """Step both envs from the same temperatures with the same actions; raise if they ever differ."""
    heron, plain = RLlibBasedHeronEnv(thermostat_config(num_rooms)), PlainThermostatEnv({"num_rooms": num_rooms})
    rng = np.random.default_rng(0)
    for step in range(steps):
        if step % 50 == 0:
            heron.reset(seed=step)
            plain.reset(seed=step)
            rooms = heron.heron_env.simulation_state()  # start the plain env from HERON's exact temperatures
            plain.temperatures = np.array([rooms[aid]["RoomTempFeature"]["temperature"] for aid in rooms])
        actions = {aid: rng.uniform(-1.2, 1.2, 1).astype(np.float32) for aid in heron.possible_agents}
        obs_h, rew_h, _, trunc_h, _ = heron.step(actions)
        obs_p, rew_p, _, trunc_p, _ = plain.step(actions)
        for aid in heron.possible_agents:
            if not (np.allclose(obs_h[aid], obs_p[aid]) and np.isclose(rew_h[aid], rew_p[aid])):
                raise AssertionError(f"step {step}: {aid} differs: {obs_h[aid]} vs {obs_p[aid]}")
        if trunc_h != trunc_p:
            raise AssertionError(f"step {step}: truncation differs: {trunc_h} vs {trunc_p}")


def sampler(env_cls: type, env_config: dict):
    """An algorithm whose local env runner samples ``env_cls`` with PPO's default module (never trained)."""
    config = (
        PPOConfig()
        .environment(env=env_cls, env_config=env_config)
        .multi_agent(policies={"shared_policy"}, policy_mapping_fn=lambda aid, *a, **kw: "shared_policy")
        .env_runners(num_env_runners=0)
        .debugging(seed=0)
    )
    return config.build_algo()


def seconds_per_step(algo, steps: int) -> float:
    started = time.perf_counter()
    episodes = algo.env_runner.sample(num_timesteps=steps, explore=True)
    sampled = sum(episode.env_steps() for episode in episodes)
    return (time.perf_counter() - started) / sampled


def measure(num_rooms: int, steps: int, repeats: int) -> tuple[list[float], list[float]]:
    """Seconds per sampled env step of each alternating repeat: (HERON adaptor, plain env)."""
    check_identical_dynamics(num_rooms)
    heron = sampler(RLlibBasedHeronEnv, thermostat_config(num_rooms))
    plain = sampler(PlainThermostatEnv, {"num_rooms": num_rooms})
    try:
        seconds_per_step(heron, 500)  # warm up both (first forward passes, caches)
        seconds_per_step(plain, 500)
        heron_times, plain_times = alternating_times(
            lambda: seconds_per_step(heron, steps), lambda: seconds_per_step(plain, steps), repeats=repeats
        )
    finally:
        heron.stop()
        plain.stop()
    return heron_times, plain_times


def bare_step_seconds(env: MultiAgentEnv, steps: int = 5000) -> float:
    """Seconds per ``env.step`` with constant actions (resetting every 50 steps), without RLlib."""
    env.reset(seed=0)
    actions = {aid: np.array([0.1], np.float32) for aid in env.possible_agents}
    started = time.perf_counter()
    for step in range(1, steps + 1):
        env.step(actions)
        if step % 50 == 0:
            env.reset()
    return (time.perf_counter() - started) / steps


def run(args: argparse.Namespace) -> None:
    print("## RLlib sampling: RLlibBasedHeronEnv vs a hand-written MultiAgentEnv\n")
    print(f"{machine()}; PPO default module, local env runner, {args.repeats} alternating repeats of "
          f"{args.steps} sampled steps per env; identical dynamics checked step by step.\n")
    rows = []
    for num_rooms in args.rooms:
        heron, plain = measure(num_rooms, args.steps, args.repeats)
        overhead = median_ratio(heron, plain) - 1.0
        bare_heron = bare_step_seconds(RLlibBasedHeronEnv(thermostat_config(num_rooms)))
        bare_plain = bare_step_seconds(PlainThermostatEnv({"num_rooms": num_rooms}))
        rows.append([
            f"{num_rooms} rooms", f"{1 / statistics.median(plain):.0f}", f"{1 / statistics.median(heron):.0f}",
            f"{overhead:+.1%}", "yes" if overhead < TARGET_OVERHEAD else "NO",
            f"{bare_plain * 1e6:.1f}", f"{bare_heron * 1e6:.1f}",
        ])
    print(markdown_table(["env", "plain: sampled steps/s", "HERON: sampled steps/s", "overhead (median of pairs)",
                          f"< {TARGET_OVERHEAD:.0%}", "bare step plain (us)", "bare step HERON (us)"], rows))


def report(quick: bool = False) -> str:
    """The table as one Markdown section (``quick``: fewer steps and repeats, 2 rooms only)."""
    args = argparse.Namespace(steps=500 if quick else 1000, repeats=4 if quick else 10, rooms=[2] if quick else [2, 10])
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            run(args)
    finally:
        if started:
            ray.shutdown()
    return buffer.getvalue()


def main() -> None:
    fix_hash_seed()  # RLlib results repeat run to run
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--rooms", type=int, nargs="+", default=[2, 10])
    args = parser.parse_args()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        run(args)
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
