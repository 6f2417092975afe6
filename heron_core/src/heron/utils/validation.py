"""Checks of numeric settings: one error message for every number a user sets.

Example::

    check_number(0.1, "hyperparams.lr", minimum=0, exclusive_minimum=True)  # 0.1
    check_number("0.1", "hyperparams.lr", minimum=0, exclusive_minimum=True)
    # ConfigError: hyperparams.lr must be a positive number, got '0.1'
    check_number(2.5, "num_envs", minimum=1, integer=True)
    # ConfigError: num_envs must be a positive integer, got 2.5
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

from heron.core.errors import ConfigError, HeronError

__all__ = ["check_number"]


def _describe_number(
    minimum: float | None = None,
    exclusive_minimum: bool = False,
    maximum: float | None = None,
    integer: bool = False,
) -> str:
    """What :func:`check_number` accepts, in words: ``"a positive integer"``, ``"a number in [0, 1]"``, ..."""
    kind = "integer" if integer else "number"
    if maximum is None and minimum == 0:
        return f"a {'positive' if exclusive_minimum else 'non-negative'} {kind}"
    if maximum is None and minimum == 1 and integer and not exclusive_minimum:
        return "a positive integer"
    noun = "an integer" if integer else "a number"
    if minimum is None and maximum is None:
        return noun if integer else "a finite number"
    if maximum is None:
        return f"{noun} {'>' if exclusive_minimum else '>='} {minimum}"
    if minimum is None:
        return f"{noun} <= {maximum}"
    return f"{noun} in {'(' if exclusive_minimum else '['}{minimum}, {maximum}]"


def _accepted(value: Any, integer: bool) -> bool:
    if isinstance(value, bool) or not isinstance(value, Integral if integer else Real):
        return False
    return isinstance(value, Integral) or math.isfinite(value)


def _shown(value: Any) -> str:
    """A number as it reads (``0.5``, also for numpy scalars); anything else as its repr (``'0.5'``)."""
    return str(value) if isinstance(value, Real) and not isinstance(value, bool) else repr(value)


def _in_range(value: float, minimum: float | None, exclusive_minimum: bool, maximum: float | None) -> bool:
    if minimum is not None and (value <= minimum if exclusive_minimum else value < minimum):
        return False
    return maximum is None or value <= maximum


def check_number(
    value: Any,
    name: str,
    *,
    minimum: float | None = None,
    exclusive_minimum: bool = False,
    maximum: float | None = None,
    integer: bool = False,
    error: type[HeronError] = ConfigError,
) -> float | int:
    """``value`` as a ``float`` (an ``int`` with ``integer=True``) after checking it.

    Accepted are finite real numbers (Python or numpy) within ``[minimum, maximum]``
    (``(minimum, maximum]`` with ``exclusive_minimum``); with ``integer``, integers only.
    Booleans, strings, complex numbers, NaN and infinity are rejected.

    Raises:
        ConfigError: ``"<name> must be <what is accepted>, got <value>"`` (``error`` instead when given,
            e.g. ``CheckpointError`` for a number read from a file).
    """
    if not (_accepted(value, integer) and _in_range(value, minimum, exclusive_minimum, maximum)):
        expected = _describe_number(minimum, exclusive_minimum, maximum, integer)
        raise error(f"{name} must be {expected}, got {_shown(value)}")
    return int(value) if integer else float(value)
