"""Vertical protocols: a coordinator's action becomes its subordinates' actions.

Both action protocols here need each subordinate's action size. In the env it
comes from ``context["subordinates"]`` (see :meth:`Protocol.dispatch`); in a
direct :meth:`Protocol.coordinate` call, from :meth:`register_subordinates`.
Both return a flat float vector per subordinate (continuous values, then
discrete indices).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

from heron.core.action import Action
from heron.core.errors import ActionError, ConfigError, UnknownAgentError
from heron.protocols.base import (
    ActionProtocol,
    CommunicationProtocol,
    Messages,
    Protocol,
    Subordinate,
    coordinator_label,
)
from heron.utils.typing import AgentID

__all__ = ["BroadcastActionProtocol", "VectorDecompositionActionProtocol", "VerticalProtocol"]

Sizes = Mapping[AgentID, tuple[int, int]]


class _SizedActionProtocol(ActionProtocol):
    """An action protocol that knows each subordinate's ``(dim_c, dim_d)``."""

    _registered: Sizes = MappingProxyType({})

    def register_subordinates(self, subordinates: Mapping[AgentID, Any]) -> None:
        """Record the action size of each of ``{subordinate_id: agent}`` (replacing earlier ones)."""
        sizes = {}
        for sub_id, sub in subordinates.items():
            action = getattr(sub, "action", None)
            if not isinstance(action, Action):
                raise ConfigError(f"subordinate {sub_id!r} has no Action to size ({type(sub).__name__})")
            sizes[sub_id] = (action.dim_c, action.dim_d)
        self._registered = sizes

    def _known(self, context: Mapping[str, Any] | None) -> Sizes:
        """``{subordinate_id: (dim_c, dim_d)}`` from ``context["subordinates"]``, else the registered ones."""
        subs = context.get("subordinates") if context else None
        if subs is None:
            return self._registered
        return {sub_id: (sub.action.dim_c, sub.action.dim_d) for sub_id, sub in subs.items()}


def _flat(action: Any, context: Mapping[str, Any] | None) -> np.ndarray:
    """The coordinator's action as a finite flat float vector (an :class:`Action` gives its ``vector()``)."""
    who = coordinator_label(context)
    if isinstance(action, Action):
        return action.vector() if action.dim_d else action.c.copy()
    if action is None:
        raise ActionError(
            f"{who}: no coordinator action to pass on (upstream gives every subordinate None, which keeps its "
            f"previous action); pass the coordinator's action"
        )
    if isinstance(action, Mapping):
        raise ActionError(
            f"{who}: the coordinator action must be an Action or a flat vector, got a dict; concatenate the "
            f"subordinates' actions in subordinate order instead"
        )
    try:
        flat = np.array(action, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise ActionError(f"{who}: coordinator action {action!r} is not numeric") from exc
    if not np.all(np.isfinite(flat)):
        raise ActionError(f"{who}: coordinator action contains NaN or infinity: {flat}")
    return flat


class VectorDecompositionActionProtocol(_SizedActionProtocol):
    """Splits the coordinator's joint action into one slice per subordinate (the vertical default).

    The joint action is every subordinate's continuous values in subordinate
    order, then every subordinate's discrete indices (its flat vector as an
    :class:`Action`). It must have exactly the subordinates' total size.
    """

    def joint_action(self, owner_id: str, subordinates: Sequence[Subordinate]) -> Action:
        """The concatenation of the subordinates' action specifications."""
        if not subordinates:
            raise ConfigError(f"coordinator {owner_id!r}: vertical protocol needs at least one acting subordinate")
        dim_c = sum(sub.action.dim_c for sub in subordinates)
        ncats = [n for sub in subordinates for n in sub.action.ncats]
        low = np.concatenate([sub.action.range[0] for sub in subordinates])
        high = np.concatenate([sub.action.range[1] for sub in subordinates])
        return Action(owner_id).set_specs(dim_c=dim_c, ncats=ncats, range=(low, high) if dim_c else None)

    def _sizes(self, info: Mapping[AgentID, Any] | None, context: Mapping[str, Any] | None) -> Sizes:
        """``{receiver_id: (dim_c, dim_d)}`` for ``info``'s keys in order (every known subordinate without it)."""
        known = self._known(context)
        if info is None or list(info) == list(known):
            return known
        unknown = [sub_id for sub_id in info if sub_id not in known]
        if unknown:
            raise UnknownAgentError(
                f"{coordinator_label(context)}: no action size known for subordinate(s) {unknown} (known: "
                f"{list(known)}; upstream splits the action equally or gives None); call "
                f"register_subordinates({{sub_id: agent}}) first"
            )
        return {sub_id: known[sub_id] for sub_id in info}

    def compute_action_coordination(
        self,
        coordinator_action: Any,
        info_for_subordinates: Mapping[AgentID, Any] | None = None,
        coordination_messages: Messages | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> dict[AgentID, Any]:
        """``{subordinate_id: its slice}`` for the receivers of ``info_for_subordinates``, in that order.

        Without ``info_for_subordinates``, every known subordinate receives its slice.
        """
        sizes = self._sizes(info_for_subordinates, context)
        total_c = total_d = 0
        for dim_c, dim_d in sizes.values():
            total_c += dim_c
            total_d += dim_d
        flat = _flat(coordinator_action, context)
        if isinstance(coordinator_action, Action):
            received = (coordinator_action.dim_c, coordinator_action.dim_d)
        else:
            received = (total_c, flat.size - total_c)
        if received != (total_c, total_d):
            raise _size_error(coordinator_action, flat, sizes, context)
        parts: dict[AgentID, Any] = {}
        c_start, d_start = 0, total_c
        for sub_id, (dim_c, dim_d) in sizes.items():
            c_end = c_start + dim_c
            if dim_d:
                parts[sub_id] = np.concatenate([flat[c_start:c_end], flat[d_start : d_start + dim_d]])
                d_start += dim_d
            else:
                parts[sub_id] = flat[c_start:c_end]
            c_start = c_end
        return parts


def _size_error(action: Any, flat: np.ndarray, sizes: Sizes, context: Mapping[str, Any] | None) -> ActionError:
    total_c = sum(dim_c for dim_c, _ in sizes.values())
    total_d = sum(dim_d for _, dim_d in sizes.values())
    received = f"dim_c={action.dim_c}, dim_d={action.dim_d}" if isinstance(action, Action) else f"{flat.size} value(s)"
    return ActionError(
        f"{coordinator_label(context)}: joint action has {received}, expected dim_c={total_c}, dim_d={total_d} "
        f"({total_c + total_d} values; (dim_c, dim_d) by subordinate: {dict(sizes)}); upstream truncates it or "
        f"gives None"
    )


class BroadcastActionProtocol(_SizedActionProtocol):
    """Gives every subordinate a copy of the coordinator's action (a price, a global command).

    The coordinator's action specification is the one its subordinates share.
    Each subordinate whose size is known must have the action's size.
    """

    def compute_action_coordination(
        self,
        coordinator_action: Any,
        info_for_subordinates: Mapping[AgentID, Any] | None = None,
        coordination_messages: Messages | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> dict[AgentID, Any]:
        """``{subordinate_id: copy of the action's flat vector}`` for the receivers of ``info_for_subordinates``."""
        flat = _flat(coordinator_action, context)
        known = self._known(context)
        receivers = list(known if info_for_subordinates is None else info_for_subordinates)
        sizes = {sub_id: sum(known[sub_id]) for sub_id in receivers if sub_id in known}
        wrong = {sub_id: size for sub_id, size in sizes.items() if size != flat.size}
        if wrong:
            raise ActionError(
                f"{coordinator_label(context)}: broadcast action has {flat.size} value(s), but subordinate(s) "
                f"expect {wrong} (upstream sends it anyway)"
            )
        return {sub_id: flat.copy() for sub_id in receivers}


class VerticalProtocol(Protocol):
    """A coordinator drives its subordinates: no messages, joint action split per subordinate.

    Args:
        communication_protocol: default :class:`~heron.protocols.base.NoCommunication`.
        action_protocol: default :class:`VectorDecompositionActionProtocol`; e.g.
            :class:`BroadcastActionProtocol` to send every subordinate the same action.
    """

    def __init__(
        self,
        communication_protocol: CommunicationProtocol | None = None,
        action_protocol: ActionProtocol | None = None,
    ) -> None:
        super().__init__(
            communication_protocol,
            VectorDecompositionActionProtocol() if action_protocol is None else action_protocol,
        )
