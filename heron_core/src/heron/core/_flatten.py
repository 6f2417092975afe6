"""Flattening of nested numeric values into one float vector.

The order is the one a reader sees: mappings in insertion order, sequences
and arrays in index (C) order. Anything that is not a number is an error
naming where it was found; nothing is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Real
from typing import Any

import numpy as np

from heron.core.errors import ObservationError


def collect_into(value: Any, path: str, out: list[float]) -> None:
    """Append the flattened entries of ``value`` to ``out`` (see :func:`flatten`)."""
    if isinstance(value, (bool, np.bool_)):
        out.append(float(value))
    elif isinstance(value, (Real, np.number)):
        out.append(float(value))
    elif isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise ObservationError(
                f"{path}: cannot flatten an array of dtype {value.dtype}; expected numbers"
            )
        out.extend(value.astype(np.float64, copy=False).ravel().tolist())
    elif isinstance(value, Mapping):
        for key, item in value.items():
            collect_into(item, f"{path}.{key}" if path else str(key), out)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            collect_into(item, f"{path}[{index}]", out)
    else:
        raise ObservationError(
            f"{path or 'value'}: cannot flatten {type(value).__name__} {value!r}; "
            "expected a number, a numeric array, or a list/tuple/dict of those"
        )


def flatten(value: Any, path: str = "") -> np.ndarray:
    """Flatten ``value`` into a 1-D float64 array.

    Args:
        value: a number, numpy array, or (nested) list, tuple or mapping of those.
        path: where the value comes from, used in error messages.

    Raises:
        ObservationError: if some part of ``value`` is not numeric.
    """
    out: list[float] = []
    collect_into(value, path, out)
    return np.asarray(out, dtype=np.float64)

