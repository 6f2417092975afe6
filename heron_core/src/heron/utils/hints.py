"""Hints for misspelt names: backends, environments, algorithms, arguments, hyper-parameters.

Example::

    did_you_mean("manul", ["manual", "rllib"])   # " (did you mean 'manual'?)"
    did_you_mean("zzz", ["manual", "rllib"])     # ""
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["close_matches", "did_you_mean"]

MAX_MATCHES = 3
CUTOFF = 0.6


def close_matches(name: object, choices: Iterable[str]) -> list[str]:
    """The valid names closest to ``name``, best first (at most three; none when nothing is close)."""
    if not isinstance(name, str):
        return []
    unique = list(dict.fromkeys(str(choice) for choice in choices))
    return difflib.get_close_matches(name, unique, n=MAX_MATCHES, cutoff=CUTOFF)


def did_you_mean(name: object, choices: Iterable[str]) -> str:
    """``" (did you mean 'x' or 'y'?)"`` with the closest of ``choices``, or ``""`` when none is close."""
    matches = close_matches(name, choices)
    if not matches:
        return ""
    quoted = [repr(match) for match in matches]
    listed = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
    return f" (did you mean {listed}?)"
