"""The vertical protocol: a coordinator's action is split into its subordinates' actions."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from heron.core.action import Action
from heron.core.errors import ConfigError
from heron.protocols.base import Protocol, Subordinate

__all__ = ["VerticalProtocol"]


class VerticalProtocol(Protocol):
    """The coordinator drives its subordinates directly.

    Its action is the concatenation of the subordinates' actions (all
    continuous parts in subordinate order, then all discrete heads), and is
    split back into one slice per subordinate.
    """

    name = "vertical"

    def joint_action(self, owner_id: str, subordinates: Sequence[Subordinate]) -> Action:
        acting = [sub for sub in subordinates if sub.acts]
        if not acting:
            raise ConfigError(f"coordinator {owner_id!r}: vertical protocol needs at least one acting subordinate")
        dim_c = sum(sub.action.dim_c for sub in acting)
        ncats = [n for sub in acting for n in sub.action.ncats]
        action = Action(owner_id)
        low = np.concatenate([sub.action.range[0] for sub in acting])
        high = np.concatenate([sub.action.range[1] for sub in acting])
        return action.set_specs(dim_c=dim_c, ncats=ncats, range=(low, high) if dim_c else None)

    def split(self, action: Action, subordinates: Sequence[Subordinate]) -> dict[str, np.ndarray]:
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
