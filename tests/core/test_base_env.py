"""BaseEnv subclasses: a plant with a state of its own, through the three-method bridge."""

from __future__ import annotations

import numpy as np
import pytest

from heron.core import SimulationError
from heron.envs import BaseEnv, build_env

from .envs_fixtures import battery_config

LEAK = 0.9


class PackEnv(BaseEnv):
    """Keeps the charges as one array while simulating: each step every charge leaks toward zero."""

    def __init__(self, built, **kwargs):
        super().__init__(list(built.all_agents.values()), env_id="pack", max_steps=built.max_steps)
        self.calls = []

    def global_state_to_env_state(self, global_state):
        self.calls.append("to_env")
        return np.array([global_state["agent_states"][aid]["features"]["Charge"]["level"] for aid in ("b1", "b2")])

    def run_simulation(self, env_state):
        self.calls.append("run")
        return env_state * LEAK

    def env_state_to_global_state(self, env_state):
        self.calls.append("to_global")
        states = {aid: {"features": {"Charge": {"level": float(level)}}} for aid, level in zip(("b1", "b2"), env_state)}
        return {"agent_states": states}


def leaking(agent_states):
    for state in agent_states.values():
        state["Charge"]["level"] *= LEAK
    return agent_states


def trajectory(env, steps=4):
    env.reset(seed=0)
    charges = []
    for _ in range(steps):
        env.step({aid: [0.05] for aid in env.agents})
        charges.append(env.state().copy())
    return np.array(charges)


def test_the_bridge_runs_in_order_and_matches_the_same_dynamics_as_a_simulation_function():
    pack = PackEnv(build_env(battery_config()))
    expected = trajectory(build_env(battery_config(simulation=leaking)))
    np.testing.assert_allclose(trajectory(pack), expected)
    assert pack.calls[:3] == ["to_env", "run", "to_global"] and len(pack.calls) == 12


def test_a_bridge_that_returns_no_agent_states_is_an_error_naming_the_env():
    class Broken(PackEnv):
        def env_state_to_global_state(self, env_state):
            return env_state  # the array, not {agent_id: {feature: {field: value}}}

    env = Broken(build_env(battery_config()))
    env.reset(seed=0)
    with pytest.raises(SimulationError, match=r"env 'pack': env_state_to_global_state must return.*ndarray"):
        env.step({aid: [0.0] for aid in env.agents})


def test_base_env_needs_run_simulation():
    class NoPlant(BaseEnv):
        pass

    built = build_env(battery_config())
    with pytest.raises(TypeError, match="run_simulation"):
        NoPlant(list(built.all_agents.values()))
