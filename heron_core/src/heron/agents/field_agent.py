"""Field agents: the devices at the bottom of the hierarchy (rooms, batteries, ...)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import ClassVar

import numpy as np

from heron.agents.base import Agent
from heron.agents.constants import FIELD_LEVEL
from heron.core.action import Action
from heron.core.feature import Feature

__all__ = ["FieldAgent"]


class FieldAgent(Agent):
    """A device that acts on its own features.

    Subclasses implement :meth:`init_action`, :meth:`apply_action` and
    :meth:`compute_local_reward`; :meth:`set_action` and :meth:`set_state`
    have working defaults and may be overridden (see :mod:`heron.agents.base`
    for when and how the env calls each method).
    """

    level: ClassVar[int] = FIELD_LEVEL

    @abstractmethod
    def init_action(self, features: Sequence[Feature]) -> Action:
        """Return the agent's :class:`Action` specification."""

    @abstractmethod
    def apply_action(self) -> None:
        """Change the agent's features according to ``self.action``."""

    @abstractmethod
    def compute_local_reward(self, local_state: Mapping[str, np.ndarray]) -> float:
        """Reward from ``{feature_name: vector}`` of the agent's own features."""
