"""Protocols: how an upper-level agent coordinates the agents below it.

A :class:`Protocol` is a :class:`CommunicationProtocol` (the messages it sends)
plus an :class:`ActionProtocol` (the action each subordinate gets from the
coordinator's action). Subclass either part, or :class:`Protocol` itself, for
coordination of your own.

The env uses two methods of a coordinator's protocol: :meth:`Protocol.joint_action`
when the coordinator gets its subordinates (the coordinator's action
specification, unless the coordinator overrides ``init_action``), and
:meth:`Protocol.dispatch` whenever the coordinator's action is set. Both work
on the agents' public interface only (:class:`Subordinate`), so this package
does not depend on :mod:`heron.agents`.
"""

from __future__ import annotations

import typing
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from heron.core.action import Action
from heron.core.errors import ActionError, ConfigError, UnknownAgentError
from heron.utils.typing import AgentID

__all__ = [
    "ActionProtocol",
    "CommunicationProtocol",
    "NoActionCoordination",
    "NoCommunication",
    "NoProtocol",
    "Protocol",
    "Subordinate",
]

Messages = dict[AgentID, dict[str, Any]]


class Subordinate(typing.Protocol):
    """What a protocol uses of an agent: id, state, action, protocol, subordinates, and whether it acts."""

    agent_id: str
    state: Any
    action: Action
    protocol: Protocol | None
    subordinates: Mapping[str, Subordinate]

    @property
    def acts(self) -> bool: ...

    def set_action(self, action: Any) -> None: ...


def coordinator_label(context: Mapping[str, Any] | None) -> str:
    """``"coordinator 'id'"`` from ``context["coordinator_id"]``, for error messages."""
    if context and "coordinator_id" in context:
        return f"coordinator {context['coordinator_id']!r}"
    return "the coordinator (no context['coordinator_id'])"


class CommunicationProtocol(ABC):
    """What a coordinator (or a peer) tells the agents it coordinates."""

    @abstractmethod
    def compute_coordination_messages(
        self,
        sender_state: Any,
        receiver_infos: Mapping[AgentID, Any] | None,
        context: Mapping[str, Any] | None = None,
    ) -> Messages:
        """``{receiver_id: message dict}`` for every receiver of ``receiver_infos``.

        :meth:`Protocol.coordinate` calls it positionally, as
        ``(sender_state, receiver_infos, context)``, so an override may name
        these parameters as it likes.
        """


class ActionProtocol(ABC):
    """How a coordinator's action becomes its subordinates' actions."""

    @abstractmethod
    def compute_action_coordination(
        self,
        coordinator_action: Any,
        info_for_subordinates: Mapping[AgentID, Any] | None = None,
        coordination_messages: Messages | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> dict[AgentID, Any]:
        """``{subordinate_id: action}`` from the coordinator's action.

        :meth:`Protocol.coordinate` calls it positionally, as
        ``(coordinator_action, info_for_subordinates, coordination_messages, context)``.
        ``info_for_subordinates``' keys are the subordinates to give an action,
        in order. An action is anything the subordinate's ``set_action``
        accepts; ``None`` means no action (which :meth:`Protocol.dispatch`
        refuses for an acting subordinate).
        """

    def register_subordinates(self, subordinates: Mapping[AgentID, Any]) -> None:
        """Hook called with ``{subordinate_id: agent}`` when the subordinates are known (default: nothing)."""

    def joint_action(self, owner_id: str, subordinates: Sequence[Subordinate]) -> Action:
        """The coordinator's action specification over its acting ``subordinates``.

        Default: the one specification all of them share (a coordinator action
        shaped like each subordinate's). Override it for another shape.
        """
        return shared_action_spec(owner_id, subordinates, type(self).__name__)


def shared_action_spec(owner_id: str, subordinates: Sequence[Subordinate], protocol: str) -> Action:
    """A copy, owned by ``owner_id``, of the action specification every subordinate has."""
    if not subordinates:
        raise ConfigError(f"coordinator {owner_id!r}: {protocol} needs at least one acting subordinate")
    first = subordinates[0].action
    specs = {sub.agent_id: _spec(sub.action) for sub in subordinates}
    if len(set(specs.values())) > 1:
        raise ConfigError(
            f"coordinator {owner_id!r}: {protocol} gives every subordinate one action of the coordinator's "
            f"shape, but their actions differ ((dim_c, ncats, low, high) by subordinate: {specs}); override "
            f"{protocol}.joint_action, or give the coordinator its own init_action"
        )
    action = Action(owner_id)
    return action.set_specs(dim_c=first.dim_c, ncats=first.ncats, range=first.range if first.dim_c else None)


def _spec(action: Action) -> tuple[int, tuple[int, ...], tuple[float, ...], tuple[float, ...]]:
    return action.dim_c, action.ncats, tuple(action.range[0].tolist()), tuple(action.range[1].tolist())


class Protocol:
    """A communication protocol and an action protocol run together by :meth:`coordinate`.

    Args:
        communication_protocol: the messages part (default :class:`NoCommunication`).
        action_protocol: the actions part (default :class:`NoActionCoordination`:
            the coordinator has no action and its subordinates choose their own).
    """

    def __init__(
        self,
        communication_protocol: CommunicationProtocol | None = None,
        action_protocol: ActionProtocol | None = None,
    ) -> None:
        self.communication_protocol = _part(communication_protocol, CommunicationProtocol, NoCommunication)
        self.action_protocol = _part(action_protocol, ActionProtocol, NoActionCoordination)

    def register_subordinates(self, subordinates: Mapping[AgentID, Any]) -> None:
        """Pass ``{subordinate_id: agent}`` to the action protocol's ``register_subordinates``."""
        self.action_protocol.register_subordinates(subordinates)

    def coordinate(
        self,
        coordinator_state: Any,
        coordinator_action: Any = None,
        info_for_subordinates: Mapping[AgentID, Any] | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> tuple[Messages, dict[AgentID, Any]]:
        """``(messages, actions)``: the communication part's messages, then the action part's actions.

        The action part receives the messages. Neither result is applied to any
        agent here; see :meth:`dispatch`.
        """
        context = {} if context is None else context
        messages = self.communication_protocol.compute_coordination_messages(
            coordinator_state, info_for_subordinates, context
        )
        actions = self.action_protocol.compute_action_coordination(
            coordinator_action, info_for_subordinates, messages, context
        )
        return messages, actions

    # ------------------------------------------------------------ env hooks
    def joint_action(self, owner_id: str, subordinates: Sequence[Subordinate]) -> Action:
        """The coordinator's action specification: the action protocol's ``joint_action`` over the acting ones."""
        action = self.action_protocol.joint_action(owner_id, [sub for sub in subordinates if sub.acts])
        if not isinstance(action, Action):
            raise ConfigError(
                f"coordinator {owner_id!r}: {type(self.action_protocol).__name__}.joint_action must return an "
                f"Action, got {action!r}"
            )
        return action

    def dispatch(self, owner: Subordinate) -> None:
        """Set every acting subordinate's action from the owner's current action.

        Runs :meth:`coordinate` with the owner's state and action,
        ``info_for_subordinates={sub_id: subordinate agent}`` for the acting
        subordinates (in order) and ``context={"coordinator_id": ...,
        "subordinates": the same dict}``. The messages reach no agent. Every
        acting subordinate must get an action, and only those. A subordinate
        with a protocol of its own then dispatches its new action in turn.
        """
        acting = {sub.agent_id: sub for sub in owner.subordinates.values() if sub.acts}
        context = {"coordinator_id": owner.agent_id, "subordinates": acting}
        _, actions = self.coordinate(owner.state, owner.action, acting, context)
        self._check_actions(owner.agent_id, actions, acting)
        for sub_id, sub in acting.items():
            try:
                sub.set_action(actions[sub_id])
            except ActionError as exc:
                raise ActionError(
                    f"coordinator {owner.agent_id!r}: {type(self.action_protocol).__name__} gave subordinate "
                    f"{sub_id!r} an action it refuses: {exc}"
                ) from exc
            if sub.protocol is not None and sub.subordinates:
                sub.protocol.dispatch(sub)

    def _check_actions(self, owner_id: str, actions: Any, acting: Mapping[str, Subordinate]) -> None:
        name = type(self.action_protocol).__name__
        if not isinstance(actions, Mapping):
            raise ActionError(
                f"coordinator {owner_id!r}: {name}.compute_action_coordination must return "
                f"{{subordinate_id: action}}, got {actions!r}"
            )
        if actions.keys() == acting.keys() and all(value is not None for value in actions.values()):
            return
        unknown = [sub_id for sub_id in actions if sub_id not in acting]
        if unknown:
            raise UnknownAgentError(
                f"coordinator {owner_id!r}: {name} gave actions to {unknown}, which are not its acting "
                f"subordinates {list(acting)} (upstream ignores them)"
            )
        missing = [sub_id for sub_id in acting if actions.get(sub_id) is None]
        raise ActionError(
            f"coordinator {owner_id!r}: {name} gave no action to subordinate(s) {missing} (upstream keeps "
            f"their previous action); return an action for every acting subordinate {list(acting)}"
        )


def _part(value: Any, base: type, default: type) -> Any:
    """``value``, or a fresh ``default()`` for ``None``, after checking it is a ``base`` instance."""
    if value is None:
        return default()
    if not isinstance(value, base):
        hint = f"; pass an instance: {value.__name__}()" if isinstance(value, type) and issubclass(value, base) else ""
        raise ConfigError(f"expected a {base.__name__} instance, got {value!r}{hint}")
    return value


class NoCommunication(CommunicationProtocol):
    """Sends nothing: an empty message for every receiver."""

    def compute_coordination_messages(
        self,
        sender_state: Any,
        receiver_infos: Mapping[AgentID, Any] | None,
        context: Mapping[str, Any] | None = None,
    ) -> Messages:
        return {receiver: {} for receiver in receiver_infos or ()}


class NoActionCoordination(ActionProtocol):
    """No coordinator action: subordinates choose their own (``None`` for each)."""

    def compute_action_coordination(
        self,
        coordinator_action: Any,
        info_for_subordinates: Mapping[AgentID, Any] | None = None,
        coordination_messages: Messages | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> dict[AgentID, Any]:
        return dict.fromkeys(info_for_subordinates or ())

    def joint_action(self, owner_id: str, subordinates: Sequence[Subordinate]) -> Action:
        """An empty action: the coordinator does not act and its subordinates stay acting agents."""
        return Action(owner_id)


class NoProtocol(Protocol):
    """No messages and no coordinator action (the same as ``Protocol()``)."""

    def __init__(self) -> None:
        super().__init__(NoCommunication(), NoActionCoordination())
