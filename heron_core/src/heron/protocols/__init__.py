"""Protocols: how coordinators' actions reach the agents below them.

Subclass :class:`Protocol` for a protocol of your own; give it to a
coordinator as an instance, a class, or the registered name ``"vertical"``.
"""

from heron.protocols.base import Protocol
from heron.protocols.registry import make_protocol
from heron.protocols.vertical import VerticalProtocol

__all__ = ["Protocol", "VerticalProtocol", "make_protocol"]
