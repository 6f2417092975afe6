"""File helpers for crash-safe run folders: fsync, atomic JSON, safe names, paths that stay inside a folder.

A file is on disk after a crash only once it and the directory that names it
were fsynced: :func:`fsync_tree` and :func:`write_json_atomic` do both.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from heron.core.errors import ConfigError, HeronError

__all__ = [
    "check_file_name",
    "fsync_path",
    "fsync_tree",
    "naming_path",
    "remove_path",
    "resolve_within",
    "with_path",
    "write_json_atomic",
    "write_text_atomic",
]

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_SAFE_NAME_RULE = "letters, digits, '_', '-' and '.', starting with a letter or digit"


def check_file_name(name: Any, what: str) -> str:
    """``name`` if it is a plain file name (one path component, no ``..``, not hidden); ConfigError otherwise.

    Args:
        name: the name to check.
        what: how to name it in the message, e.g. ``"run name"``.
    """
    if not isinstance(name, str) or not _SAFE_NAME.fullmatch(name) or len(name) > 200:
        raise ConfigError(f"{what} must be a plain name of at most 200 {_SAFE_NAME_RULE}, got {name!r}")
    return name


def resolve_within(path: str | Path, root: str | Path, error: type[HeronError] = ConfigError) -> Path:
    """``path`` with every symlink resolved; ``error`` naming both paths unless it lies inside ``root`` (resolved)."""
    try:
        resolved, base = Path(path).resolve(), Path(root).resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
        raise error(f"{path} cannot be resolved: {exc}") from exc
    if not resolved.is_relative_to(base):
        raise error(f"{path} resolves to {resolved}, which is outside {base}")
    return resolved


def with_path(exc: OSError, path: str | Path) -> OSError:
    """``exc`` naming ``path`` if it names no file (a failed write, e.g. to a full disk, carries no file name)."""
    if exc.filename is not None or exc.errno is None:
        return exc
    return type(exc)(exc.errno, exc.strerror, os.fspath(path))


@contextmanager
def naming_path(path: str | Path) -> Iterator[None]:
    """Re-raise an OSError of the block through :func:`with_path`."""
    try:
        yield
    except OSError as exc:
        named = with_path(exc, path)
        if named is exc:
            raise
        raise named from exc


def fsync_path(path: str | Path) -> None:
    """Flush the file or directory ``path`` to disk (directories: the names they hold)."""
    if os.name == "nt" and Path(path).is_dir():
        return  # Windows cannot open a directory; NTFS journals its renames itself
    fd = os.open(path, os.O_RDONLY)
    try:
        with naming_path(path):
            os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(path: str | Path) -> None:
    """Fsync every file and directory under directory ``path``, and ``path`` itself (symlinks are not followed)."""
    for directory, dirnames, filenames in os.walk(path, topdown=False):
        for name in filenames:
            if not os.path.islink(os.path.join(directory, name)):
                fsync_path(os.path.join(directory, name))
        for name in dirnames:
            if not os.path.islink(os.path.join(directory, name)):
                fsync_path(os.path.join(directory, name))
    fsync_path(path)


def remove_path(path: str | Path) -> None:
    """Delete ``path``: a directory tree, a file or a symlink (never what a symlink points to)."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, fsync it, rename it into place and fsync the directory.

    After a crash ``path`` holds either the previous content or ``text``, never a mix. An OSError names ``path``.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.tmp-")
    try:
        with naming_path(path), os.fdopen(fd, "w", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        with naming_path(path):
            os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_path(path.parent)


def write_json_atomic(path: str | Path, data: Any) -> None:
    """Write ``data`` as JSON through :func:`write_text_atomic`."""
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True, default=str))
