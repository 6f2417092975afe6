"""Protocols: how coordinators and peers coordinate the agents they reach.

A :class:`Protocol` combines a :class:`CommunicationProtocol` (messages) and
an :class:`ActionProtocol` (the coordinator's action turned into its
subordinates' actions). Give one to a coordinator as an instance, a class, or
the registered name ``"vertical"``.
"""

from heron.protocols.base import (
    ActionProtocol,
    CommunicationProtocol,
    NoActionCoordination,
    NoCommunication,
    NoProtocol,
    Protocol,
)
from heron.protocols.horizontal import HorizontalProtocol, StateShareCommunicationProtocol
from heron.protocols.registry import make_protocol
from heron.protocols.vertical import BroadcastActionProtocol, VectorDecompositionActionProtocol, VerticalProtocol

__all__ = [
    "ActionProtocol",
    "BroadcastActionProtocol",
    "CommunicationProtocol",
    "HorizontalProtocol",
    "NoActionCoordination",
    "NoCommunication",
    "NoProtocol",
    "Protocol",
    "StateShareCommunicationProtocol",
    "VectorDecompositionActionProtocol",
    "VerticalProtocol",
    "make_protocol",
]
