"""Level 5, part A: the Policy ABC, REINFORCE by hand, the manual backend, IPPO versus MAPPO.

    python policy_and_training.py [--episodes 300] [--out runs]

Needs heron-core and heron-backend-manual only (numpy). Each part prints what it shows; the last
one writes a robustness PNG and CSV into ``--out``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from heron.core import Policy, obs_to_vector, vector_to_action
from heron.demo_envs.thermostat import TARGET_TEMPERATURE
from heron.evaluation import evaluate_policies, plot_sweep, robustness_sweep, write_sweep_csv
from heron.portable import load_policies
from heron.training import ExperimentSpec, make_env, make_trainer, sharing_groups, summarize_returns


# --------------------------------------------------------------------------- Part 1: the Policy ABC
class Proportional(Policy):
    """Heat in proportion to how far the room is below the target.

    ``@obs_to_vector`` hands ``forward`` the vector of the policy's observation mode (``local``: the
    room's own temperature); ``@vector_to_action`` turns the returned array into an ``Action`` clipped
    to ``action_range``.
    """

    observation_mode = "local"
    obs_dim, action_dim, action_range = 1, 1, (-1.0, 1.0)

    def __init__(self, gain: float = 0.5) -> None:
        self.gain = gain

    @obs_to_vector
    @vector_to_action
    def forward(self, obs_vec: np.ndarray) -> np.ndarray:
        return self.gain * (TARGET_TEMPERATURE - obs_vec)


def part1_policy_abc() -> float:
    env = make_env("thermostat")
    returns = evaluate_policies(env, {aid: Proportional() for aid in env.possible_agents}, episodes=20, seed=1000)
    reference = float(np.mean(returns))
    print(f"Part 1  proportional controller on {env.possible_agents}: mean team return {reference:.2f}")
    return reference


# --------------------------------------------------------------------------- Part 2: REINFORCE by hand
class LinearGaussian(Policy):
    """``a ~ N(w * (target - temperature) + b, sigma)``: a one-feature Gaussian policy trained below."""

    observation_mode = "local"
    obs_dim, action_dim, action_range = 1, 1, (-1.0, 1.0)

    def __init__(self, rng: np.random.Generator, sigma: float = 0.3) -> None:
        self.theta = np.zeros(2)  # (w, b)
        self.sigma, self.rng, self.explore = sigma, rng, True
        self.trace: list[tuple[np.ndarray, float]] = []  # (features, noise) of each action taken

    @obs_to_vector
    @vector_to_action
    def forward(self, obs_vec: np.ndarray) -> np.ndarray:
        features = np.array([(TARGET_TEMPERATURE - obs_vec[0]) / 10.0, 1.0])
        mean = float(features @ self.theta)
        noise = float(self.rng.normal(0.0, self.sigma)) if self.explore else 0.0
        self.trace.append((features, noise))
        return np.array([mean + noise])

    def update(self, rewards: list[float], lr: float, gamma: float = 0.99) -> None:
        """One REINFORCE step: grad log pi = noise / sigma^2 * features, weighted by the normalised return."""
        returns = np.zeros(len(rewards))
        running = 0.0
        for t in reversed(range(len(rewards))):
            running = rewards[t] + gamma * running
            returns[t] = running
        advantages = (returns - returns.mean()) / (returns.std() + 1e-8)
        grad = sum(adv * noise / self.sigma**2 * features for (features, noise), adv in zip(self.trace, advantages))
        self.theta += lr * grad / len(rewards)
        self.trace.clear()


def part2_reinforce_by_hand(episodes: int, seed: int = 0) -> None:
    env = make_env("thermostat")
    rng = np.random.default_rng(seed)
    policies = {aid: LinearGaussian(rng) for aid in env.possible_agents}
    team_returns = []
    for episode in range(episodes):
        observations, _ = env.reset(seed=seed + episode)
        rewards: dict[str, list[float]] = {aid: [] for aid in env.possible_agents}
        done = False
        while not done:
            actions = {aid: policies[aid].forward(observations[aid]) for aid in env.agents}
            observations, step_rewards, terminated, truncated, _ = env.step(actions)
            for aid, reward in step_rewards.items():
                rewards[aid].append(reward)
            done = terminated["__all__"] or truncated["__all__"]
        for aid, policy in policies.items():
            policy.update(rewards[aid], lr=0.05)
        team_returns.append(sum(sum(r) for r in rewards.values()))
    summary = summarize_returns(team_returns)
    print(f"Part 2  REINFORCE by hand, {episodes} episodes: team return {summary.first:.1f} (first 20) -> "
          f"{summary.last:.1f} (last 20); learned gain w={policies['room_a'].theta[0]:.2f}")


# --------------------------------------------------------------------------- Part 3: the manual backend
def part3_manual_backend(episodes: int, out: Path) -> None:
    trainer = make_trainer(ExperimentSpec(env="thermostat", algorithm="ippo", seed=1, stop={"episodes": episodes}),
                           backend="manual")
    result = trainer.train()
    summary = summarize_returns(result.returns)
    path = trainer.save(out / "checkpoints" / "ippo")
    loaded = load_policies(path)  # numpy-only, pickle-free: deployable without the backend
    env = make_env("thermostat")
    same = evaluate_policies(env, loaded, 3, seed=7) == evaluate_policies(env, trainer.policies(), 3, seed=7)
    print(f"Part 3  manual backend (ippo), {len(result.returns)} episodes in {result.wall_time_s:.1f} s: "
          f"{summary.first:.1f} -> {summary.last:.1f}; saved to {path}, reloaded policies act the same: {same}")


# --------------------------------------------------------------------------- Part 4: IPPO versus MAPPO
def part4_ippo_vs_mappo(episodes: int, reference: float, out: Path) -> None:
    env = make_env("thermostat")
    print("Part 4  who shares a policy:", {name: sharing_groups(env, name) for name in ("ippo", "mappo")})
    print(f"        {'algo':>5} {'first 20':>9} {'last 20':>8} {'best 20':>8} {'eval':>8}  (reference {reference:.1f})")
    sweeps = {}
    for algorithm in ("ippo", "mappo"):
        spec = ExperimentSpec(env="thermostat", algorithm=algorithm, seed=1, stop={"episodes": episodes})
        trainer = make_trainer(spec, backend="manual")
        summary = summarize_returns(trainer.train().returns)
        policies = trainer.policies()
        evaluation = float(np.mean(evaluate_policies(env, policies, 20, seed=1000)))
        print(f"        {algorithm:>5} {summary.first:9.1f} {summary.last:8.1f} {summary.best:8.1f} {evaluation:8.1f}")
        sweeps[algorithm] = robustness_sweep(env, policies, "obs_delay", [0.0, 1.0, 2.0], episodes=3)
    out.mkdir(parents=True, exist_ok=True)
    write_sweep_csv(out / "obs_delay.csv", sweeps)
    plot_sweep(out / "obs_delay.png", sweeps)
    for algorithm, sweep in sweeps.items():
        means = ", ".join(f"{value:g}: {mean:.1f}" for value, mean in zip(sweep.values, sweep.means))
        print(f"        {algorithm} event-driven return by observation delay ({means})")
    print(f"        wrote {out / 'obs_delay.png'} and {out / 'obs_delay.csv'}")
    print("        the same from the command line: heron train --algo all, then "
          "heron evaluate RUN_DIR --event-driven --obs-delay 0,1,2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=300, help="training episodes per run")
    parser.add_argument("--out", type=Path, default=Path("runs/level5"), help="where checkpoints and plots go")
    args = parser.parse_args()
    reference = part1_policy_abc()
    part2_reinforce_by_hand(args.episodes)
    part3_manual_backend(args.episodes, args.out)
    part4_ippo_vs_mappo(args.episodes, reference, args.out)


if __name__ == "__main__":
    main()
