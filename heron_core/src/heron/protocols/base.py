"""Protocols: how an upper-level agent's action reaches its subordinates.

A protocol works on the agents' public interface only (:class:`Subordinate`),
so this package does not depend on :mod:`heron.agents`.
"""

from __future__ import annotations

import typing
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

from heron.core.action import Action

__all__ = ["Protocol", "Subordinate"]


class Subordinate(typing.Protocol):
    """What a protocol uses of an agent: its id, its action, and whether it acts."""

    agent_id: str
    action: Action

    @property
    def acts(self) -> bool: ...

    def set_action(self, action: Any) -> None: ...


class Owner(Subordinate, typing.Protocol):
    """An agent with subordinates: a coordinator or the system agent."""

    subordinates: Sequence[Subordinate]


class Protocol(ABC):
    """Maps an upper-level agent's action onto its subordinates' actions."""

    name: str = "protocol"

    @abstractmethod
    def joint_action(self, owner_id: str, subordinates: Sequence[Subordinate]) -> Action:
        """The action specification of the upper-level agent."""

    @abstractmethod
    def split(self, action: Action, subordinates: Sequence[Subordinate]) -> dict[str, np.ndarray]:
        """``{subordinate_id: flat action vector}`` for ``action``."""

    def dispatch(self, owner: Owner) -> None:
        """Set every subordinate's action from the owner's current action."""
        parts = self.split(owner.action, owner.subordinates)
        for sub in owner.subordinates:
            if sub.agent_id in parts:
                sub.set_action(parts[sub.agent_id])
