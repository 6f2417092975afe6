"""Checkpoint slots: each algorithm's checkpoints in a run folder, complete at every instant, even after SIGKILL.

Layout of ``RUN_DIR/checkpoints/<algorithm>/``::

    v000006/        a complete checkpoint (what the trainer's ``save`` wrote)
    v000007/        the newest one
    latest.json     {"version": "v000007"}: the pointer that loaders follow
    .staging-*/     a save in progress, or what a killed one left

:meth:`CheckpointSlot.save` lets the trainer write into a fresh hidden staging
directory, fsyncs every file and directory in it, renames it to the next
version and fsyncs the slot; only then does it replace ``latest.json``
(atomically, fsynced). Versions older than the last :data:`KEEP` are removed
after that, each renamed to a hidden name first, so a half-deleted directory
never carries a version name; hidden leftovers of killed saves are removed by
the next save. A version directory therefore only ever exists complete, and a
kill at any moment leaves ``latest.json`` naming a complete version, or, after a
kill in the very first save between its rename and its pointer, no
``latest.json`` and one complete version, which :meth:`CheckpointSlot.latest`
then returns (it returns the newest version whenever the pointer is absent).

Loading stays inside the run folder: the pointer must name a version
(``v`` and six or more digits, no path parts), and the version directory, and
every symlink in it, must resolve inside ``RUN_DIR``. One process saves to a
slot at a time.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from heron.core.errors import CheckpointError
from heron.utils.files import check_file_name, fsync_path, fsync_tree, remove_path, resolve_within, write_json_atomic

__all__ = ["CheckpointSlot"]

KEEP = 2
"""How many versions a slot keeps: the newest and the one before it."""

POINTER_FILE = "latest.json"
CHECKPOINTS_DIR = "checkpoints"
_VERSION = re.compile(r"v[0-9]{6,}")


class CheckpointSlot:
    """The versioned checkpoints of one algorithm in a run folder: ``RUN_DIR/checkpoints/<algorithm>/``.

    Example::

        slot = CheckpointSlot(run_dir, "mappo")
        slot.save(trainer.save)                 # RUN_DIR/checkpoints/mappo/v000001
        policies = load_policies(slot.latest())

    Raises:
        ConfigError: ``algorithm`` is not a plain name (one path component of letters, digits, ``_-.``).
    """

    def __init__(self, run_dir: str | Path, algorithm: str) -> None:
        self.run_dir = Path(run_dir)
        self.algorithm = check_file_name(algorithm, "algorithm name")
        self.path = self.run_dir / CHECKPOINTS_DIR / algorithm

    # ---------------------------------------------------------- saving
    def save(self, write: Callable[[Path], object]) -> Path:
        """Let ``write(path)`` create a checkpoint directory, publish it as the next version and return that.

        ``path`` does not exist yet and its parent does, so ``trainer.save`` fits. On
        any error (KeyboardInterrupt included) nothing is published and
        :meth:`latest` is unchanged.

        Raises:
            CheckpointError: the slot resolves outside the run folder, holds files that are not part of a
                slot, or ``write`` created no directory at ``path``.
        """
        resolve_within(self.path, self.run_dir, CheckpointError)
        self.path.mkdir(parents=True, exist_ok=True)
        foreign = sorted(name for name in os.listdir(self.path) if not self._ours(name))
        if foreign:
            raise CheckpointError(
                f"{self.path} holds {foreign}, which are not part of a checkpoint slot (expected only "
                f"v000001-style version directories, {POINTER_FILE} and hidden temporaries)"
            )
        for name in os.listdir(self.path):
            if name.startswith("."):  # leftovers of a save that was killed
                remove_path(self.path / name)
        staging = Path(tempfile.mkdtemp(dir=self.path, prefix=".staging-"))
        try:
            written = staging / "checkpoint"
            write(written)
            if written.is_symlink() or not written.is_dir():
                raise CheckpointError(f"{getattr(write, '__qualname__', write)} created no directory at {written}")
            fsync_tree(written)
            versions = self._versions()
            version = f"v{(int(versions[-1][1:]) if versions else 0) + 1:06d}"
            os.rename(written, self.path / version)
            fsync_path(self.path)
        finally:
            remove_path(staging)
        write_json_atomic(self.path / POINTER_FILE, {"version": version})
        for old in self._versions()[:-KEEP]:
            trash = self.path / f".trash-{old}"
            os.rename(self.path / old, trash)
            remove_path(trash)
        return self.path / version

    # --------------------------------------------------------- loading
    def exists(self) -> bool:
        """Whether a checkpoint was published (:meth:`latest` then returns it, or says why it cannot)."""
        return bool(self._versions())

    def latest(self) -> Path:
        """The newest published checkpoint directory, resolved; always inside the run folder.

        Raises:
            CheckpointError: nothing was saved yet, the pointer is corrupt or names a missing version, or the
                checkpoint (or a symlink in it) resolves outside the run folder.
        """
        resolve_within(self.path, self.run_dir, CheckpointError)
        pointer = self.path / POINTER_FILE
        if pointer.exists() or pointer.is_symlink():
            version = self._read_pointer(pointer)
        else:
            versions = self._versions()
            if not versions:
                raise CheckpointError(self._why_empty())
            version = versions[-1]
        checkpoint = resolve_within(self.path / version, self.run_dir, CheckpointError)
        if not checkpoint.is_dir():
            raise CheckpointError(
                f"{pointer} names {version}, but {self.path / version} is not a directory "
                f"(versions present: {self._versions() or 'none'})"
            )
        _check_symlinks(checkpoint, self.run_dir)
        return checkpoint

    def _read_pointer(self, pointer: Path) -> str:
        resolve_within(pointer, self.run_dir, CheckpointError)
        try:
            text = pointer.read_text()
            data = json.loads(text)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CheckpointError(f"{pointer} is corrupt ({exc}); {self._present()}") from exc
        if not isinstance(data, dict) or set(data) != {"version"} or not isinstance(data["version"], str) \
                or not _VERSION.fullmatch(data["version"]):
            raise CheckpointError(
                f"{pointer} must be {{\"version\": \"v000001\"}} naming a version directory, got {text[:100]!r}; "
                f"{self._present()}"
            )
        return data["version"]

    # ---------------------------------------------------------- helpers
    def _ours(self, name: str) -> bool:
        return name.startswith(".") or name == POINTER_FILE or bool(_VERSION.fullmatch(name))

    def _versions(self) -> list[str]:
        """Version directory names, oldest first."""
        if not self.path.is_dir():
            return []
        return sorted((name for name in os.listdir(self.path) if _VERSION.fullmatch(name)), key=lambda n: int(n[1:]))

    def _present(self) -> str:
        versions = self._versions()
        if not versions:
            return "no version directories are present"
        return (f"versions present: {versions}; to use the newest, write {{\"version\": \"{versions[-1]}\"}} to "
                f"{POINTER_FILE} or delete it")

    def _why_empty(self) -> str:
        if not self.path.is_dir():
            return f"no checkpoint of {self.algorithm!r} in {self.run_dir}: {self.path} does not exist"
        others = sorted(name for name in os.listdir(self.path) if not name.startswith("."))
        if others:
            return (f"{self.path} holds {others} but no version directory: a checkpoint saved by HERON before "
                    f"versioned slots; move those files into {self.path / 'v000001'} to use it")
        return f"no checkpoint of {self.algorithm!r} in {self.run_dir}: the run stopped before its first save"


def _check_symlinks(directory: Path, root: Path) -> None:
    """CheckpointError unless every symlink under ``directory``, followed, stays inside ``root``."""
    pending, seen = [directory], set()
    while pending:
        top = pending.pop()
        if top in seen:
            continue
        seen.add(top)
        for parent, dirnames, filenames in os.walk(top):
            for name in dirnames + filenames:
                entry = Path(parent, name)
                if entry.is_symlink() and resolve_within(entry, root, CheckpointError).is_dir():
                    pending.append(entry.resolve())
