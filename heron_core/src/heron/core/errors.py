"""Exception hierarchy of HERON.

Every error HERON raises on bad user input derives from :class:`HeronError`
and from the built-in exception a Python user would expect (``ValueError``,
``KeyError``, ``TypeError``), so ``except ValueError`` keeps working.
"""

from __future__ import annotations

__all__ = [
    "ActionError",
    "BackendError",
    "CheckpointError",
    "ConfigError",
    "EnvNotResetError",
    "HeronError",
    "ObservationError",
    "SimulationError",
    "UnknownAgentError",
]


_NOTE_PREFIX = "(raised in "


def add_origin_note(exc: BaseException, agent_id: str, where: str) -> None:
    """Note on ``exc`` that ``where`` (e.g. ``"Tank.apply_action()"``) of agent ``agent_id`` raised it.

    The exception keeps its type and message; Python prints the note under it. Nothing is added
    when the message names the agent already, and the innermost call that notes an exception wins.
    """
    if repr(agent_id) in str(exc) or any(note.startswith(_NOTE_PREFIX) for note in getattr(exc, "__notes__", ())):
        return
    exc.add_note(f"{_NOTE_PREFIX}{where} of agent {agent_id!r})")


class HeronError(Exception):
    """Base class of all HERON errors."""


class ConfigError(HeronError, ValueError):
    """An env_config, agent spec or experiment spec is invalid."""


class ActionError(HeronError, ValueError):
    """An action has the wrong shape, a non-finite value or an invalid index."""


class EnvNotResetError(HeronError, RuntimeError):
    """``step`` or an event-driven run was called before ``reset``, or after the episode (or run) ended."""


class ObservationError(HeronError, ValueError):
    """An observation cannot be flattened or has the wrong length."""


class UnknownAgentError(HeronError, KeyError):
    """An agent id that the environment does not know was used."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class SimulationError(HeronError, ValueError):
    """The user's simulation function returned something the env cannot use."""


class BackendError(HeronError, LookupError):
    """A backend is missing, broken or does not offer what was asked."""


class CheckpointError(HeronError, ValueError):
    """A checkpoint is corrupt or does not match what loads it."""
