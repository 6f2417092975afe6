"""Plugins installed for a test as real distributions: a ``.dist-info`` folder on ``sys.path``, no pip."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def install_distribution(
    root: Path, distribution: str, modules: Mapping[str, str], entry_points: Mapping[str, str] | None = None
) -> None:
    """Write ``distribution`` into ``root``: ``{module name: source}`` and ``{entry-point name: module}``
    (default: each module an entry point of its own name).

    ``importlib.metadata`` finds it once ``root`` is on ``sys.path`` (``monkeypatch.syspath_prepend``, or
    ``PYTHONPATH`` for a subprocess), as it finds a pip-installed one.
    """
    entry_points = {name: name for name in modules} if entry_points is None else entry_points
    info = root / f"{distribution.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 0.1\n")
    lines = "".join(f"{name} = {module}\n" for name, module in entry_points.items())
    (info / "entry_points.txt").write_text("[heron]\n" + lines)
    for name, source in modules.items():
        (root / f"{name}.py").write_text(source)


def run_heron(*args: str, pythonpath: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    """``heron ARGS`` in a fresh interpreter, as the console script runs it, with ``pythonpath`` first on sys.path."""
    environ = {**os.environ, "COLUMNS": "250", "PYTHONHASHSEED": "0", **env}
    if pythonpath is not None:
        environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pythonpath), environ.get("PYTHONPATH")]))
    command = [sys.executable, "-c", "from heron.cli import run; run()", *args]
    return subprocess.run(command, capture_output=True, text=True, env=environ, timeout=300)
