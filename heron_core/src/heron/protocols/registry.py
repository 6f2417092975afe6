"""Protocols by name, as env configs and ``CoordinatorAgent(protocol="vertical")`` give them."""

from __future__ import annotations

from typing import Any

from heron.core.errors import ConfigError
from heron.protocols.base import ActionProtocol, CommunicationProtocol, Protocol
from heron.protocols.vertical import VerticalProtocol

__all__ = ["make_protocol"]

_PROTOCOLS: dict[str, type[Protocol]] = {"vertical": VerticalProtocol}


def make_protocol(value: Any, owner: str) -> Protocol | None:
    """Resolve ``None``, a registered name, a Protocol subclass or instance."""
    if value is None or isinstance(value, Protocol):
        return value
    if isinstance(value, str):
        if value not in _PROTOCOLS:
            raise ConfigError(
                f"coordinator {owner!r}: unknown protocol {value!r}; expected one of {sorted(_PROTOCOLS)}"
            )
        return _PROTOCOLS[value]()
    if isinstance(value, type) and issubclass(value, Protocol):
        return value()
    part = value if isinstance(value, type) else type(value)
    if issubclass(part, (ActionProtocol, CommunicationProtocol)):
        raise ConfigError(
            f"coordinator {owner!r}: {part.__name__} is only part of a protocol; wrap it, e.g. "
            f"VerticalProtocol(action_protocol=...) or Protocol(communication_protocol=..., action_protocol=...)"
        )
    raise ConfigError(f"coordinator {owner!r}: protocol must be None, a name or a Protocol, got {value!r}")
