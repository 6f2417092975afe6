"""HERON environments: the env classes, the builders and the simulation contracts.

:class:`DefaultHeronEnv` runs a simulation function; subclass :class:`BaseEnv`
for a simulation with a state of its own. Named environments (``make_env``)
live in :mod:`heron.training`.
"""

from heron.envs.base import DEFAULT_MAX_STEPS, BaseEnv
from heron.envs.builder import EnvBuilder, build_env
from heron.envs.simple import DefaultHeronEnv
from heron.envs.simulation import AgentStates, InPlaceSimulationFn, LiveFeatures, SimulationFn, in_place_simulation

__all__ = [
    "DEFAULT_MAX_STEPS",
    "AgentStates",
    "BaseEnv",
    "DefaultHeronEnv",
    "EnvBuilder",
    "InPlaceSimulationFn",
    "LiveFeatures",
    "SimulationFn",
    "build_env",
    "in_place_simulation",
]
