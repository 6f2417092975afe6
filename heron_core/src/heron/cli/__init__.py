"""The ``heron`` command line (see :mod:`heron.cli.main`).

This module stays light: the console script :func:`run` fixes the string-hash seed, restarting the
interpreter when needed, before the command line's own imports are paid for.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

__all__ = ["cli", "run"]

HASH_SEED_VARIABLE = "PYTHONHASHSEED"
DEFAULT_HASH_SEED = "0"


def run() -> None:
    """The ``heron`` console script: :func:`~heron.cli.main.cli` with a fixed string-hash seed.

    Python randomises ``hash(str)`` per process, and libraries such as RLlib iterate over sets of
    agent ids, so without a fixed seed the same ``--seed`` could give different returns from one run
    to the next. When ``PYTHONHASHSEED`` is unset, the script sets it to 0 and restarts itself once
    (Ray workers inherit it); a value the user set is kept.
    """
    if HASH_SEED_VARIABLE not in os.environ:
        os.environ[HASH_SEED_VARIABLE] = DEFAULT_HASH_SEED
        command = [sys.executable, *sys.orig_argv[1:]]
        if os.name == "nt":  # no exec that keeps the console waiting on Windows
            sys.exit(subprocess.call(command))
        os.execv(sys.executable, command)
    from heron.cli.main import cli

    cli()


def __getattr__(name: str) -> Any:
    if name == "cli":  # imported on first use, so that run() starts light
        from heron.cli.main import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
