"""Level 5, part B: HERON on Ray RLlib: the env adaptor, IPPO and MAPPO configs, event-driven evaluation.

    python rllib_integration.py [--iterations 5]

Needs heron-backend-rllib (Ray RLlib and PyTorch). Part 5 trains for ``--iterations`` PPO iterations,
then deploys the trained actors as plain HERON policies, without Ray.
"""

from __future__ import annotations

import argparse
import tempfile

import numpy as np
import ray
from ray.rllib.algorithms.ppo import PPOConfig

from heron.adaptors.rllib import RLlibBasedHeronEnv
from heron.adaptors.rllib_module_bridge import policies_from_algorithm
from heron.adaptors.rllib_runner import EVENT_DRIVEN_KEY, HeronEnvRunner
from heron.backends.rllib import ippo_config, mappo_config
from heron.backends.rllib.export import export_policies
from heron.cli import fix_hash_seed
from heron.demo_envs.thermostat import thermostat_config
from heron.evaluation import evaluate_policies
from heron.portable import load_policies
from heron.scheduling import ScheduleConfig, evaluate_event_driven
from heron.training import make_env

SMALL = {"train_batch_size": 200, "minibatch_size": 100, "num_epochs": 2}  # quick iterations for a tutorial


def part1_env_adaptor() -> dict:
    """A flat HERON env_config becomes an RLlib MultiAgentEnv: one entry per acting agent."""
    env_config = thermostat_config(num_rooms=2)
    env = RLlibBasedHeronEnv(env_config)
    observations, _ = env.reset(seed=0)
    print(f"Part 1  agents {sorted(env.get_agent_ids())}; observation spaces {env.observation_spaces}; "
          f"action spaces {env.action_spaces}; first observations {observations}")
    return env_config


def part2_and_3_configs(env_config: dict) -> None:
    """IPPO: one module per agent. MAPPO: one module per kind of agent, whose critic reads env.state()."""
    for name, make in (("ippo", ippo_config), ("mappo", mappo_config)):
        config = make(env_config, seed=0, hyperparams=SMALL)
        print(f"Part {2 if name == 'ippo' else 3}  {name}: modules {sorted(config.policies)}; "
              f"room_a maps to {config.policy_mapping_fn('room_a', None)!r}")


def part4_event_driven_evaluation(env_config: dict) -> PPOConfig:
    """Evaluation runners run HERON event-driven: each agent on its own clock, with delays."""
    schedule = {"room_a": ScheduleConfig(tick_interval=1.0, obs_delay=0.5),
                "room_b": ScheduleConfig(tick_interval=2.0, act_delay=0.5)}
    config = mappo_config(env_config, seed=0, hyperparams=SMALL).evaluation(
        evaluation_interval=1, evaluation_duration=1, evaluation_duration_unit="episodes",
        evaluation_config=HeronEnvRunner.evaluation_config(t_end=50.0, schedule=schedule, seed=0),
    )
    print("Part 4  evaluation runs event-driven for 50 time units: room_a ticks every 1 with a 0.5 observation "
          "delay, room_b every 2 with a 0.5 actuation delay")
    return config


def part5_train_and_deploy(config: PPOConfig, iterations: int) -> None:
    algo = config.build_algo()
    try:
        for iteration in range(1, iterations + 1):
            result = algo.train()
            evaluation = result["evaluation"]["env_runners"]
            print(f"Part 5  iteration {iteration}: training return {result['env_runners']['episode_return_mean']:.1f}, "
                  f"event-driven evaluation {evaluation['episode_return_mean']:.1f} "
                  f"({evaluation[EVENT_DRIVEN_KEY]['num_events']:.0f} events)")
        live = policies_from_algorithm(algo)  # RLlibModuleBridge: a trained module as a HERON Policy
        with tempfile.TemporaryDirectory() as folder:
            deployed = load_policies(export_policies(algo, folder))  # numpy only, pickle-free
    finally:
        algo.stop()
    env = make_env("thermostat")
    exported, bridged = (float(np.mean(evaluate_policies(env, p, 5, seed=1))) for p in (deployed, live))
    print(f"        deployed without Ray: synchronous return {exported:.1f} (the live bridge: {bridged:.1f})")
    delayed = evaluate_event_driven(env, deployed, seed=1, schedule=ScheduleConfig(obs_delay=1.0))
    print(f"        event-driven with a 1.0 observation delay: team return {sum(delayed.agent_returns.values()):.1f}")


def main() -> None:
    fix_hash_seed()  # RLlib iterates sets of agent ids: a fixed string hash makes the returns repeat
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=5, help="PPO iterations in part 5")
    args = parser.parse_args()
    ray.init(num_cpus=2, include_dashboard=False, ignore_reinit_error=True)
    try:
        env_config = part1_env_adaptor()
        part2_and_3_configs(env_config)
        part5_train_and_deploy(part4_event_driven_evaluation(env_config), args.iterations)
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
