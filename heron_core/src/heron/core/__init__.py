"""HERON core: the building blocks of user models.

Features, actions, observations and state describe agents; the :class:`Policy`
ABC and its decorators describe controllers. Nothing here depends on the rest
of HERON.
"""

from heron.core.action import Action
from heron.core.errors import (
    ActionError,
    BackendError,
    CheckpointError,
    ConfigError,
    EnvNotResetError,
    HeronError,
    ObservationError,
    SimulationError,
    UnknownAgentError,
)
from heron.core.feature import Feature
from heron.core.observation import OBSERVATION_MODES, Observation
from heron.core.policies import Policy, obs_to_vector, vector_to_action
from heron.core.state import CoordinatorAgentState, FieldAgentState, State, SystemAgentState

__all__ = [
    "OBSERVATION_MODES",
    "Action",
    "ActionError",
    "BackendError",
    "CheckpointError",
    "ConfigError",
    "CoordinatorAgentState",
    "EnvNotResetError",
    "Feature",
    "FieldAgentState",
    "HeronError",
    "Observation",
    "ObservationError",
    "Policy",
    "SimulationError",
    "State",
    "SystemAgentState",
    "UnknownAgentError",
    "obs_to_vector",
    "vector_to_action",
]
