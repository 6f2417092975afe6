"""Run folders: a fresh directory per run and its config.json."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from heron.core.errors import ConfigError
from heron.training.experiment import ExperimentSpec
from heron.utils.files import check_file_name, resolve_within, write_json_atomic

__all__ = [
    "new_run_dir",
    "read_run_config",
    "write_run_config",
]

CONFIG_FILE = "config.json"
_CONFIG_SHAPE = "expected 'backend' and 'experiments' (each with 'algorithm', 'env' and 'env_kwargs')"


def new_run_dir(root: str | Path, name: str) -> Path:
    """Create ``root/<timestamp>-<name>`` (with a suffix if it exists) and return it.

    Raises:
        ConfigError: ``name`` is not a plain name (one path component of letters, digits, ``_-.``).
    """
    check_file_name(name, "run name")
    base = Path(root) / f"{time.strftime('%Y%m%d-%H%M%S')}-{name}"
    path, suffix = base, 1
    while path.exists():
        suffix += 1
        path = base.with_name(f"{base.name}-{suffix}")
    resolve_within(path, root)  # a symlinked suffix could point elsewhere
    path.mkdir(parents=True)
    return path


def write_run_config(run_dir: str | Path, backend: str, specs: Sequence[ExperimentSpec]) -> Path:
    """Write ``RUN_DIR/config.json`` (``{"backend", "experiments": [spec.to_dict(), ...]}``) atomically."""
    path = Path(run_dir) / CONFIG_FILE
    write_json_atomic(path, {"backend": backend, "experiments": [spec.to_dict() for spec in specs]})
    return path


def read_run_config(run_dir: str | Path) -> dict[str, Any]:
    """The run's config.json, checked: a backend name and experiments with distinct, plain algorithm names.

    Raises:
        ConfigError: config.json is missing, resolves outside ``run_dir``, is not JSON or not a run config; the
            message names the file.
    """
    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        raise ConfigError(f"{run_dir} is not a run folder: {CONFIG_FILE} is missing")
    resolve_within(path, run_dir)
    try:
        run = json.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path} is not valid JSON: {exc}") from exc
    experiments = run.get("experiments") if isinstance(run, dict) else None
    if not isinstance(experiments, list) or not isinstance(run.get("backend"), str) or not all(
        isinstance(entry, dict) and isinstance(entry.get("algorithm"), str) and isinstance(entry.get("env"), str)
        and isinstance(entry.get("env_kwargs"), dict)
        for entry in experiments
    ):
        raise ConfigError(f"{path} is not a run config: {_CONFIG_SHAPE}, got {json.dumps(run)[:200]}")
    if not experiments:
        raise ConfigError(f"{path} lists no experiments")
    algorithms = [entry["algorithm"] for entry in experiments]
    for index, algorithm in enumerate(algorithms):
        try:
            check_file_name(algorithm, f"experiments[{index}].algorithm")
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    repeated = sorted({name for name in algorithms if algorithms.count(name) > 1})
    if repeated:
        raise ConfigError(f"{path}: algorithm(s) {repeated} appear in more than one experiment")
    return run
