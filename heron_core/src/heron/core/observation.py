"""Observations and the three observation modes.

An :class:`Observation` has a ``local`` part (what the agent sees of itself
and, for a coordinator, of its subordinates) and a ``global_info`` part
(the public features of the whole system, the same for every agent at a
given moment). The observation modes pick what a policy consumes:

* ``"local"``: :meth:`Observation.local_vector`;
* ``"global"``: :meth:`Observation.global_vector`;
* ``"full"``: both, local first (:meth:`Observation.vector`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from heron.core._flatten import flatten
from heron.core.errors import ConfigError, ObservationError

__all__ = ["OBSERVATION_MODES", "Observation"]

_StateSource = tuple[np.ndarray, Sequence[tuple[str, slice]], Sequence[tuple[str, slice]]]
"""``(state, local_entries, global_entries)``: where an observation's dicts live in a flat state."""

OBSERVATION_MODES: tuple[str, ...] = ("local", "full", "global")


def check_observation_mode(mode: str, owner: str = "policy") -> str:
    """Return ``mode`` if it is a valid observation mode, else raise ConfigError."""
    if mode not in OBSERVATION_MODES:
        raise ConfigError(f"{owner}: unknown observation_mode {mode!r}; expected one of {list(OBSERVATION_MODES)}")
    return mode


class Observation:
    """What an agent observes at one moment.

    Args:
        local: ``{name: value}`` of what the agent sees of itself.
        global_info: ``{name: value}`` of system-wide public information.
        timestamp: simulation time of the observation.

    Values may be numbers, numpy arrays or (nested) lists/dicts of numbers;
    vectors follow the insertion order of the dicts. An env's observations
    hold read-only float32 arrays, the same values as their vectors.

    An observation also behaves as its full :meth:`vector` where an array is
    expected: ``obs.shape``, ``len(obs)``, ``obs[0]``, ``np.asarray(obs)``.
    """

    __slots__ = ("_global_info", "_global_vector", "_local", "_local_vector", "_source", "timestamp")

    def __init__(
        self,
        local: Mapping[str, Any] | None = None,
        global_info: Mapping[str, Any] | None = None,
        timestamp: float = 0.0,
    ) -> None:
        self._local: Mapping[str, Any] | None = local if local is not None else {}
        self._global_info: Mapping[str, Any] | None = global_info if global_info is not None else {}
        try:
            self.timestamp = float(timestamp)
        except (TypeError, ValueError):
            raise ObservationError(f"observation timestamp must be a number, got {timestamp!r}") from None
        self._local_vector: np.ndarray | None = None
        self._global_vector: np.ndarray | None = None
        self._source: _StateSource | None = None

    @classmethod
    def from_state(
        cls,
        source: _StateSource,
        timestamp: float,
        local_vector: np.ndarray,
        global_vector: np.ndarray,
    ) -> Observation:
        """An observation of a flat state vector whose flat vectors are already known (the env's fast path).

        ``source`` is ``(state, local_entries, global_entries)``: ``local`` and
        ``global_info`` are ``{key: state[slice]}`` over the entries, built on
        first access. The vectors must equal what flattening them gives.
        """
        obs = cls.__new__(cls)
        obs._local = obs._global_info = None
        obs._source = source
        obs.timestamp = timestamp
        obs._local_vector = local_vector
        obs._global_vector = global_vector
        return obs

    @property
    def local(self) -> Mapping[str, Any]:
        """``{name: value}`` of what the agent sees of itself."""
        if self._local is None:
            state, entries, _ = self._source
            self._local = {key: state[sl] for key, sl in entries}
        return self._local

    @local.setter
    def local(self, value: Mapping[str, Any] | None) -> None:
        self._local = value if value is not None else {}
        self._local_vector = None

    @property
    def global_info(self) -> Mapping[str, Any]:
        """``{name: value}`` of system-wide public information."""
        if self._global_info is None:
            state, _, entries = self._source
            self._global_info = {key: state[sl] for key, sl in entries}
        return self._global_info

    @global_info.setter
    def global_info(self, value: Mapping[str, Any] | None) -> None:
        self._global_info = value if value is not None else {}
        self._global_vector = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Observation:
        """Build from ``{"local": ..., "global_info": ..., "timestamp": ...}``."""
        unknown = set(data) - {"local", "global_info", "timestamp"}
        if unknown:
            raise ConfigError(
                f"observation dict has unknown keys {sorted(unknown)}; expected 'local', 'global_info', 'timestamp'"
            )
        return cls(data.get("local"), data.get("global_info"), data.get("timestamp", 0.0))

    def local_vector(self) -> np.ndarray:
        """The local part, flattened (float32)."""
        if self._local_vector is None:
            self._local_vector = flatten(self.local, "local").astype(np.float32)
        return self._local_vector

    def global_vector(self) -> np.ndarray:
        """The global part, flattened (float32)."""
        if self._global_vector is None:
            self._global_vector = flatten(self.global_info, "global_info").astype(np.float32)
        return self._global_vector

    def vector(self) -> np.ndarray:
        """Local then global part, flattened (float32): the ``"full"`` mode."""
        return np.concatenate([self.local_vector(), self.global_vector()])

    def vector_for(self, mode: str) -> np.ndarray:
        """The flat vector a policy with observation mode ``mode`` consumes."""
        if mode == "local":
            return self.local_vector()
        if mode == "global":
            return self.global_vector()
        if mode == "full":
            return self.vector()
        check_observation_mode(mode)
        raise AssertionError("unreachable")

    # ------------------------------------------------- array-like (upstream)
    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of :meth:`vector`."""
        return self.vector().shape

    @property
    def dtype(self) -> np.dtype:
        """dtype of :meth:`vector` (float32)."""
        return np.dtype(np.float32)

    def __len__(self) -> int:
        return self.local_vector().size + self.global_vector().size

    def __getitem__(self, index: Any) -> Any:
        """Index :meth:`vector` as a numpy array."""
        return self.vector()[index]

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        vector = self.vector()
        return vector if dtype is None else vector.astype(dtype, copy=False)

    def to_dict(self) -> dict[str, Any]:
        """``{"local", "global_info", "timestamp"}`` (shallow)."""
        return {"local": dict(self.local), "global_info": dict(self.global_info), "timestamp": self.timestamp}

    def __repr__(self) -> str:
        entries = len(self.global_info)
        return f"Observation(local={dict(self.local)!r}, global_info=<{entries} entries>, t={self.timestamp})"
