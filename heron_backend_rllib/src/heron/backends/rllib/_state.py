"""An RLlib algorithm's state (``algo.get_state()``) as data: one JSON file and one pickle-free ``.npz``.

In Ray 2.60 the state is a tree of dicts (some with integer keys: optimizer parameter ids), lists,
tuples, numpy arrays and scalars, and Python numbers, strings, booleans and ``None``. The JSON keeps the
tree; every array and numpy scalar goes to the ``.npz`` under a generated key and is referenced as
``{"__array__": key}``; tuples and dicts with non-string keys are tagged. Anything else (an object)
is refused when saving, so loading never needs pickle.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from heron.core.errors import BackendError, CheckpointError

_ARRAY, _SCALAR, _TUPLE, _ITEMS = "__array__", "__scalar__", "__tuple__", "__items__"
_PLAIN = (str, bool, int, float, type(None))


def encode_tree(tree: Any) -> tuple[Any, dict[str, np.ndarray]]:
    """``(json_tree, arrays)`` for ``tree``.

    Raises:
        BackendError: naming the path of a value that is not data (or an array of objects).
    """
    arrays: dict[str, np.ndarray] = {}

    def encode(value: Any, where: str) -> Any:
        if isinstance(value, (np.ndarray, np.generic)):
            array = np.asarray(value)
            if array.dtype.hasobject or array.dtype.kind not in "biufc":
                raise BackendError(f"cannot save the algorithm state: {where} is an array of {array.dtype}")
            key = f"a{len(arrays)}"
            arrays[key] = array
            return {_SCALAR if isinstance(value, np.generic) else _ARRAY: key}
        if isinstance(value, _PLAIN):
            return value
        if isinstance(value, tuple):
            return {_TUPLE: [encode(item, f"{where}[{i}]") for i, item in enumerate(value)]}
        if isinstance(value, list):
            return [encode(item, f"{where}[{i}]") for i, item in enumerate(value)]
        if isinstance(value, Mapping):
            if all(isinstance(key, str) and not key.startswith("__") for key in value):
                return {key: encode(item, f"{where}/{key}") for key, item in value.items()}
            return {_ITEMS: [[encode(key, f"{where} key"), encode(item, f"{where}/{key}")]
                             for key, item in value.items()]}
        raise BackendError(f"cannot save the algorithm state: {where} is a {type(value).__name__}, not data")

    return encode(tree, "state"), arrays


def decode_tree(tree: Any, arrays: Mapping[str, np.ndarray], where: str) -> Any:
    """The inverse of :func:`encode_tree`.

    Raises:
        CheckpointError: naming ``where`` for a reference to a missing array or a malformed tag.
    """

    def decode(value: Any) -> Any:
        if isinstance(value, list):
            return [decode(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1 and next(iter(value)) in (_ARRAY, _SCALAR, _TUPLE, _ITEMS):
            ((tag, content),) = value.items()
            if tag in (_ARRAY, _SCALAR):
                if not isinstance(content, str) or content not in arrays:
                    raise CheckpointError(f"{where} refers to array {content!r}, which the .npz file lacks")
                return arrays[content][()] if tag == _SCALAR else arrays[content]
            if not isinstance(content, list) or (tag == _ITEMS and not all(
                    isinstance(pair, list) and len(pair) == 2 for pair in content)):
                raise CheckpointError(f"{where}: malformed {tag} entry {json.dumps(content)[:100]}")
            if tag == _TUPLE:
                return tuple(decode(item) for item in content)
            return {_hashable(decode(key), where): decode(item) for key, item in content}
        return {key: decode(item) for key, item in value.items()}

    return decode(tree)


def _hashable(key: Any, where: str) -> Any:
    if not isinstance(key, (str, int, float, bool, tuple, type(None))):
        raise CheckpointError(f"{where}: a dict key must be a string or a number, got {key!r}")
    return key


def write_arrays(file: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` to the ``.npz`` file ``file``."""
    with open(file, "wb") as handle:
        np.savez(handle, **arrays)


def read_arrays(file: Path) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` file ``file``, loaded without pickle.

    Raises:
        CheckpointError: the file is missing, corrupt or holds object arrays.
    """
    try:
        with np.load(file, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"{file} is corrupt or missing: {exc}") from exc
