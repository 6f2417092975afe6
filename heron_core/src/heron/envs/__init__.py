"""HERON environments: the env class, builders, the registry and the built-in thermostat."""

from heron.envs.builder import DEFAULT_MAX_STEPS, EnvBuilder, build_env
from heron.envs.env import DefaultHeronEnv
from heron.envs.registry import EnvSpec, env_specs, make_env, make_env_config, register_env
from heron.envs.simulation import AgentStates, InPlaceSimulationFn, LiveFeatures, SimulationFn, in_place_simulation

__all__ = [
    "DEFAULT_MAX_STEPS",
    "AgentStates",
    "DefaultHeronEnv",
    "EnvBuilder",
    "EnvSpec",
    "InPlaceSimulationFn",
    "LiveFeatures",
    "SimulationFn",
    "build_env",
    "env_specs",
    "in_place_simulation",
    "make_env",
    "make_env_config",
    "register_env",
]
