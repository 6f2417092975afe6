"""The ``heron`` command line (see :mod:`heron.cli.main`).

This module stays light: the console script :func:`run` fixes the string-hash seed, restarting the
interpreter when needed, before the command line's own imports are paid for. Scripts that train with
RLlib directly can call :func:`fix_hash_seed` the same way.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

__all__ = ["cli", "fix_hash_seed", "run"]

HASH_SEED_VARIABLE = "PYTHONHASHSEED"
DEFAULT_HASH_SEED = "0"


def fix_hash_seed() -> None:
    """Make ``hash(str)`` the same in every run: set ``PYTHONHASHSEED`` to 0 and restart once, unless it is set.

    Python randomises ``hash(str)`` per process, and libraries such as RLlib iterate over sets of
    agent ids, so without a fixed seed the same training seed could give different returns from one
    run to the next. Call it first thing in a script's entry point (it re-runs the same command line);
    Ray workers inherit the variable, and a value the user set is kept.
    """
    if HASH_SEED_VARIABLE in os.environ:
        return
    os.environ[HASH_SEED_VARIABLE] = DEFAULT_HASH_SEED
    command = [sys.executable, *sys.orig_argv[1:]]
    if os.name == "nt":  # no exec that keeps the console waiting on Windows
        sys.exit(subprocess.call(command))
    os.execv(sys.executable, command)


def run() -> None:
    """The ``heron`` console script: :func:`~heron.cli.main.cli` after :func:`fix_hash_seed`."""
    fix_hash_seed()
    from heron.cli.main import cli

    cli()


def __getattr__(name: str) -> Any:
    if name == "cli":  # imported on first use, so that run() starts light
        from heron.cli.main import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
