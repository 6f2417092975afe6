"""What :meth:`RLlibTrainer.save <heron.backends.rllib.trainer.RLlibTrainer.save>` writes, and its two loaders.

A checkpoint directory::

    heron_rllib.json      backend, experiment spec, iterations, episodes, env steps, whether portable/ exists
    portable/             the policies in HERON's numpy format (heron.portable.checkpoint)
    trainer_state.json    the algorithm's state (weights, optimizer, connector filters, counters) as JSON
    trainer_state.npz     its arrays, pickle-free; with the JSON: what RLlibTrainer.restore reads
    rllib_checkpoint/     RLlib's own checkpoint (algo.save_to_path): pickled files

:func:`load_policies` (the backend's loader, used by ``heron evaluate``) reads ``heron_rllib.json`` and
``portable/`` only: data, never code. :func:`load_pickled` loads RLlib's checkpoint through
:class:`~heron.adaptors.rllib_module_bridge.RLlibModuleBridge`; unpickling runs code named in the
folder, so it is for checkpoints you trust (``heron evaluate --allow-pickle``).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from heron.core.errors import CheckpointError
from heron.core.policies import Policy
from heron.portable import checkpoint as portable
from heron.utils.files import resolve_within

__all__ = ["load_pickled", "load_policies"]

METADATA_FILE = "heron_rllib.json"
PORTABLE_DIR = "portable"
STATE_JSON = "trainer_state.json"
STATE_ARRAYS = "trainer_state.npz"
RLLIB_CHECKPOINT = "rllib_checkpoint"


def read_metadata(path: Path) -> dict[str, Any]:
    """The checkpoint's ``heron_rllib.json``.

    Raises:
        CheckpointError: it is missing, not JSON, or not an RLlib backend's metadata object.
    """
    file = path / METADATA_FILE
    if not file.is_file():
        raise CheckpointError(f"{path} is not an RLlib backend checkpoint: {METADATA_FILE} is missing")
    try:
        info = json.loads(resolve_within(file, path, CheckpointError).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{file} is not valid JSON: {exc}") from exc
    if not isinstance(info, dict) or info.get("backend") != "rllib":
        raise CheckpointError(f"{file} is not an RLlib backend's metadata: expected an object with backend 'rllib'")
    return info


def load_policies(path: str | Path) -> dict[str, Policy]:
    """The portable policies of a checkpoint :class:`~heron.backends.rllib.trainer.RLlibTrainer` saved (data only).

    Raises:
        CheckpointError: ``path`` is not such a checkpoint, or it has no portable export (the message says
            why, and that :func:`load_pickled` / ``heron evaluate --allow-pickle`` loads RLlib's checkpoint).
    """
    path = Path(path)
    info = read_metadata(path)
    export = path / PORTABLE_DIR
    if not export.is_dir():
        reason = info.get("portable_error") or f"{PORTABLE_DIR}/ is missing"
        raise CheckpointError(
            f"{path} has no portable policies ({reason}); `heron evaluate --allow-pickle` (load_pickled in Python) "
            "loads RLlib's pickled checkpoint instead, which runs code from the folder"
        )
    return dict(portable.load_policies(resolve_within(export, path, CheckpointError)))


def load_pickled(path: str | Path) -> Mapping[str, Policy]:
    """The policies of RLlib's own checkpoint in ``path``, as RLlibModuleBridge objects. Runs code from ``path``.

    Unpickling RLlib's files imports and calls whatever they name: use it only on checkpoints you trust.

    Raises:
        CheckpointError: ``path`` is not an RLlib backend checkpoint.
    """
    from heron.adaptors.rllib_module_bridge import policies_from_checkpoint

    path = Path(path)
    read_metadata(path)
    warnings.warn(
        f"loading {path / RLLIB_CHECKPOINT} unpickles its files, which runs code from that folder: "
        "use it only on checkpoints you trust",
        UserWarning,
        stacklevel=2,
    )
    return policies_from_checkpoint(resolve_within(path / RLLIB_CHECKPOINT, path, CheckpointError))
