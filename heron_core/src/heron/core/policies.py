"""The Policy ABC and the decorators that adapt observations and actions.

A policy maps an observation to an action. Write ``forward`` on plain numpy
vectors and let the decorators do the conversions::

    class Proportional(Policy):
        observation_mode = "local"

        def __init__(self):
            self.obs_dim, self.action_dim, self.action_range = 1, 1, (-1.0, 1.0)

        @obs_to_vector
        @vector_to_action
        def forward(self, obs_vec):
            return np.array([0.5 * (22.0 - obs_vec[0])])

The same policy then works in ``env.step`` and in event-driven runs: both
hand it an :class:`~heron.core.observation.Observation`, and
:func:`obs_to_vector` picks the vector of the policy's observation mode.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np

from heron.core.action import Action
from heron.core.errors import ConfigError, ObservationError
from heron.core.observation import Observation, check_observation_mode

__all__ = ["Policy", "obs_to_vector", "vector_to_action"]

F = TypeVar("F", bound=Callable[..., Any])


class Policy(ABC):
    """Base class of HERON policies.

    Attributes:
        observation_mode: ``"local"``, ``"full"`` or ``"global"`` (see
            :mod:`heron.core.observation`).
        obs_dim: length of the observation vector, checked by :func:`obs_to_vector`
            when set.
        action_dim: number of continuous action components, used by
            :func:`vector_to_action`.
        action_range: ``(low, high)`` scalars or arrays bounding the action.
        action_spec: an :class:`Action` template; when set it replaces
            ``action_dim``/``action_range`` (needed for discrete or mixed actions).
    """

    observation_mode: str = "full"
    obs_dim: int | None = None
    action_dim: int | None = None
    action_range: tuple[Any, Any] | None = None
    action_spec: Action | None = None

    @abstractmethod
    def forward(self, obs: Any) -> Action:
        """Return the action for ``obs``."""

    def reset(self) -> None:
        """Clear any per-episode state (called when an episode starts)."""

    def __call__(self, obs: Any) -> Action:
        return self.forward(obs)

    @property
    def policy_name(self) -> str:
        """A name for error messages: the agent id when known, else the class name."""
        return str(getattr(self, "agent_id", None) or type(self).__name__)


def observation_vector(obs: Any, mode: str, expected_dim: int | None = None, owner: str = "policy") -> np.ndarray:
    """Turn an Observation, an observation dict or an array into the flat vector of ``mode``.

    An array is taken as already being the vector of ``mode``. When
    ``expected_dim`` is given, a different length is an error.
    """
    check_observation_mode(mode, owner)
    if isinstance(obs, Observation):
        vector = obs.vector_for(mode)
    elif isinstance(obs, Mapping):
        vector = Observation.from_dict(obs).vector_for(mode)
    elif isinstance(obs, (np.ndarray, list, tuple)):
        try:
            vector = np.asarray(obs, dtype=np.float32).reshape(-1)
        except (TypeError, ValueError):
            raise ObservationError(
                f"{owner}: observation {obs!r} is not numeric; expected an array, list or tuple of numbers"
            ) from None
    else:
        raise ObservationError(
            f"{owner}: cannot turn {type(obs).__name__} into an observation vector; "
            "expected an Observation, an observation dict or an array"
        )
    if expected_dim is not None and vector.size != expected_dim:
        raise ObservationError(
            f"{owner}: observation vector in mode {mode!r} has {vector.size} values, expected obs_dim={expected_dim}"
        )
    if not np.isfinite(vector).all():
        raise ObservationError(f"{owner}: observation contains NaN or infinity: {vector}")
    return vector


def obs_to_vector(method: F) -> F:
    """Decorate ``forward`` so it receives the flat vector of the policy's observation mode."""

    @functools.wraps(method)
    def wrapper(self: Policy, obs: Any, *args: Any, **kwargs: Any) -> Any:
        vector = observation_vector(obs, self.observation_mode, self.obs_dim, self.policy_name)
        return method(self, vector, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _action_template(policy: Policy) -> Action:
    template = policy.__dict__.get("_heron_action_template")
    if template is None:
        if policy.action_spec is not None:
            template = policy.action_spec.copy()
        else:
            if policy.action_dim is None or policy.action_range is None:
                raise ConfigError(
                    f"{policy.policy_name}: @vector_to_action needs action_dim and action_range "
                    "(or action_spec) on the policy"
                )
            template = Action(policy.policy_name).set_specs(dim_c=int(policy.action_dim), range=policy.action_range)
        template.owner = policy.policy_name
        policy.__dict__["_heron_action_template"] = template
    return template


def vector_to_action(method: F) -> F:
    """Decorate ``forward`` so the vector it returns becomes an :class:`Action`.

    The vector must have exactly the action's length; continuous values are
    clipped to ``action_range``. An :class:`Action` returned as is passes through.
    """

    @functools.wraps(method)
    def wrapper(self: Policy, *args: Any, **kwargs: Any) -> Action:
        result = method(self, *args, **kwargs)
        if isinstance(result, Action):
            return result
        return _action_template(self).copy().set_values(result)

    return wrapper  # type: ignore[return-value]
