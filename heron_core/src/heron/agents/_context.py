"""Naming the agent in an error raised by user code, without changing the error."""

from __future__ import annotations

from typing import Any

__all__ = ["add_agent_note"]

_PREFIX = "(raised in "


def add_agent_note(exc: BaseException, agent: Any, method: str, owner: Any = None) -> None:
    """Note on ``exc`` that ``owner.method`` (default owner: the agent) of ``agent`` raised it.

    The exception keeps its type and message; Python prints the note under it.
    Nothing is added when the message names the agent already, and the
    innermost call that notes an exception wins.
    """
    if repr(agent.agent_id) in str(exc) or any(note.startswith(_PREFIX) for note in getattr(exc, "__notes__", ())):
        return
    exc.add_note(f"{_PREFIX}{type(agent if owner is None else owner).__name__}.{method} of agent {agent.agent_id!r})")
