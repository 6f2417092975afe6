"""HERON core: the building blocks users write against.

Features, actions and observations describe agents; the :class:`Policy` ABC
and its decorators describe controllers; :func:`make_trainer` trains them
with any installed backend.
"""

from heron.core.action import Action
from heron.core.backends import BackendSpec
from heron.core.errors import (
    ActionError,
    BackendError,
    CheckpointError,
    ConfigError,
    HeronError,
    ObservationError,
    SimulationError,
    UnknownAgentError,
)
from heron.core.features import Feature
from heron.core.observation import OBSERVATION_MODES, Observation
from heron.core.policies import Policy, obs_to_vector, vector_to_action
from heron.core.training import (
    ALGORITHMS,
    EpisodeRecord,
    ExperimentSpec,
    StopCriteria,
    Trainer,
    TrainingResult,
    make_trainer,
)

__all__ = [
    "ALGORITHMS",
    "OBSERVATION_MODES",
    "Action",
    "ActionError",
    "BackendError",
    "BackendSpec",
    "CheckpointError",
    "ConfigError",
    "EpisodeRecord",
    "ExperimentSpec",
    "Feature",
    "HeronError",
    "Observation",
    "ObservationError",
    "Policy",
    "SimulationError",
    "StopCriteria",
    "Trainer",
    "TrainingResult",
    "UnknownAgentError",
    "make_trainer",
    "obs_to_vector",
    "vector_to_action",
]
