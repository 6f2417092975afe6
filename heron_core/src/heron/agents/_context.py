"""Naming the agent in an error raised by user code, without changing the error."""

from __future__ import annotations

from typing import Any

from heron.core.errors import add_origin_note

__all__ = ["add_agent_note"]


def add_agent_note(exc: BaseException, agent: Any, method: str, owner: Any = None) -> None:
    """Note on ``exc`` that ``owner.method`` (default owner: the agent) of ``agent`` raised it (see
    :func:`heron.core.errors.add_origin_note`)."""
    add_origin_note(exc, agent.agent_id, f"{type(agent if owner is None else owner).__name__}.{method}")
