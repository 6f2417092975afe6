"""Protocols: how an upper-level agent's action reaches its subordinates."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from heron.core.action import Action
from heron.core.errors import ConfigError

if TYPE_CHECKING:
    from heron.agents.base import Agent

__all__ = ["PROTOCOLS", "Protocol", "VerticalProtocol", "make_protocol"]


class Protocol(ABC):
    """Maps an upper-level agent's action onto its subordinates' actions."""

    name: str = "protocol"

    @abstractmethod
    def joint_action(self, owner_id: str, subordinates: Sequence[Agent]) -> Action:
        """The action specification of the upper-level agent."""

    @abstractmethod
    def split(self, action: Action, subordinates: Sequence[Agent]) -> dict[str, np.ndarray]:
        """``{subordinate_id: flat action vector}`` for ``action``."""

    def dispatch(self, owner: Agent) -> None:
        """Set every subordinate's action from the owner's current action."""
        parts = self.split(owner.action, owner.subordinates)
        for sub in owner.subordinates:
            if sub.agent_id in parts:
                sub.set_action(parts[sub.agent_id])


class VerticalProtocol(Protocol):
    """The coordinator drives its subordinates directly.

    Its action is the concatenation of the subordinates' actions (all
    continuous parts in subordinate order, then all discrete heads), and is
    split back into one slice per subordinate.
    """

    name = "vertical"

    def joint_action(self, owner_id: str, subordinates: Sequence[Agent]) -> Action:
        acting = [sub for sub in subordinates if sub.acts]
        if not acting:
            raise ConfigError(f"coordinator {owner_id!r}: vertical protocol needs at least one acting subordinate")
        dim_c = sum(sub.action.dim_c for sub in acting)
        ncats = [n for sub in acting for n in sub.action.ncats]
        action = Action(owner_id)
        low = np.concatenate([sub.action.range[0] for sub in acting])
        high = np.concatenate([sub.action.range[1] for sub in acting])
        return action.set_specs(dim_c=dim_c, ncats=ncats, range=(low, high) if dim_c else None)

    def split(self, action: Action, subordinates: Sequence[Agent]) -> dict[str, np.ndarray]:
        parts: dict[str, np.ndarray] = {}
        c_start = d_start = 0
        for sub in subordinates:
            if not sub.acts:
                continue
            dim_c, dim_d = sub.action.dim_c, sub.action.dim_d
            parts[sub.agent_id] = np.concatenate(
                [action.c[c_start : c_start + dim_c], action.d[d_start : d_start + dim_d].astype(np.float64)]
            )
            c_start += dim_c
            d_start += dim_d
        return parts


PROTOCOLS: dict[str, type[Protocol]] = {"vertical": VerticalProtocol}


def make_protocol(value: Any, owner: str) -> Protocol | None:
    """Resolve ``None``, a registered name, a Protocol subclass or instance."""
    if value is None or isinstance(value, Protocol):
        return value
    if isinstance(value, str):
        if value not in PROTOCOLS:
            raise ConfigError(f"coordinator {owner!r}: unknown protocol {value!r}; expected one of {sorted(PROTOCOLS)}")
        return PROTOCOLS[value]()
    if isinstance(value, type) and issubclass(value, Protocol):
        return value()
    raise ConfigError(f"coordinator {owner!r}: protocol must be None, a name or a Protocol, got {value!r}")
