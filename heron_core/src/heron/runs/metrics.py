"""A run's metrics.csv, written as training goes: the header first, then one row per episode, each flushed.

Columns: ``backend, algorithm, episode, env_steps, team_return``, then one per agent id (the env's
``possible_agents``, in order); returns have six decimals, and an agent that did not act in an episode
reads ``nan``. A row is written with one ``write`` and flushed at once, so a killed run leaves whole rows,
and at most its last line cut short; :meth:`MetricsLog.resume` drops that line and the rows after the
checkpoint it continues from.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from heron.core.errors import ConfigError
from heron.training.experiment import EpisodeRecord
from heron.utils.files import resolve_within, with_path, write_text_atomic

__all__ = ["MetricsLog", "read_returns"]

METRICS_FILE = "metrics.csv"
COLUMNS = ("backend", "algorithm", "episode", "env_steps", "team_return")


def _line(values: Sequence[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()


class MetricsLog:
    """``RUN_DIR/metrics.csv`` open for appending episode rows; use :meth:`create` or :meth:`resume`.

    Example::

        with MetricsLog.create(run_dir, env.possible_agents) as log:
            trainer.train(progress=lambda record: log.append("manual", "ippo", record))
    """

    def __init__(self, path: Path, agent_ids: Sequence[str]) -> None:
        self.path = path
        self.agent_ids = list(agent_ids)
        try:
            self._handle = open(path, "a", newline="")
        except OSError as exc:
            raise with_path(exc, path) from exc

    @classmethod
    def create(cls, run_dir: str | Path, agent_ids: Sequence[str]) -> MetricsLog:
        """Write a new metrics.csv holding the header only, and open it.

        Raises:
            ConfigError: metrics.csv exists, or resolves outside ``run_dir``.
        """
        path = resolve_within(Path(run_dir) / METRICS_FILE, run_dir)
        if path.exists():
            raise ConfigError(f"{path} exists already; a new run starts with no metrics")
        write_text_atomic(path, _line([*COLUMNS, *agent_ids]))
        return cls(path, agent_ids)

    @classmethod
    def resume(cls, run_dir: str | Path, agent_ids: Sequence[str], episodes: Mapping[str, int]) -> MetricsLog:
        """Reopen metrics.csv keeping, per algorithm, only the rows of its first ``episodes[algorithm]`` episodes.

        The rows beyond a checkpoint belong to training that the resumed run does again; removing them (in
        an atomic rewrite) means nothing is counted twice. A missing file is created with its header.

        Raises:
            ConfigError: the file resolves outside ``run_dir``, has another header, holds a malformed row
                before its last line, or lacks rows that ``episodes`` says were trained.
        """
        path = resolve_within(Path(run_dir) / METRICS_FILE, run_dir)
        header = [*COLUMNS, *agent_ids]
        if not path.exists():
            write_text_atomic(path, _line(header))
            return cls(path, agent_ids)
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read {path}: {exc}") from exc
        lines = text.split("\n")
        whole = lines[:-1]  # the last element is "" or a row cut short by a kill: dropped
        if not whole or next(csv.reader([whole[0]])) != header:
            found = next(csv.reader([whole[0]])) if whole else []
            raise ConfigError(f"{path} has the header {found}, expected {header}")
        kept, counts = [whole[0]], dict.fromkeys(episodes, 0)
        for number, line in enumerate(whole[1:], start=2):
            row = next(csv.reader([line]), [])
            if len(row) != len(header) or not row[2].isdigit() or int(row[2]) < 1:
                raise ConfigError(f"{path} line {number} is not a metrics row of {len(header)} columns: {line!r}")
            algorithm, episode = row[1], int(row[2])
            if episode <= episodes.get(algorithm, 0):
                if episode != counts[algorithm] + 1:
                    raise ConfigError(f"{path} line {number}: {algorithm} episode {episode} follows episode "
                                      f"{counts[algorithm]}")
                kept.append(line)
                counts[algorithm] = episode
        short = {name: (count, episodes[name]) for name, count in counts.items() if count != episodes[name]}
        if short:
            detail = ", ".join(f"{name} has {have} rows, its checkpoint {want} episodes"
                               for name, (have, want) in short.items())
            raise ConfigError(f"{path} lacks rows of trained episodes: {detail}")
        write_text_atomic(path, "".join(line + "\n" for line in kept))
        return cls(path, agent_ids)

    def append(self, backend: str, algorithm: str, record: EpisodeRecord) -> None:
        """Write one episode's row and flush it.

        Raises:
            ConfigError: the record names an agent that has no column.
        """
        extra = sorted(set(record.agent_returns) - set(self.agent_ids))
        if extra:
            raise ConfigError(f"{algorithm} episode {record.episode} reports agent(s) {extra}, which have no column "
                              f"in {self.path} (columns: {self.agent_ids})")
        returns = [f"{record.agent_returns.get(aid, float('nan')):.6f}" for aid in self.agent_ids]
        line = _line([backend, algorithm, record.episode, record.env_steps, f"{record.team_return:.6f}", *returns])
        try:
            self._handle.write(line)
            self._handle.flush()
        except OSError as exc:
            raise with_path(exc, self.path) from exc

    def sync(self) -> None:
        """Make the rows written so far durable (before a checkpoint that counts them is published)."""
        try:
            os.fsync(self._handle.fileno())
        except OSError as exc:
            raise with_path(exc, self.path) from exc

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> MetricsLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def read_returns(run_dir: str | Path) -> dict[tuple[str, str], list[float]]:
    """``{(backend, algorithm): team return of each episode}`` from the run's metrics.csv, in file order.

    Raises:
        ConfigError: metrics.csv is missing, resolves outside ``run_dir``, or is not a metrics file.
    """
    path = Path(run_dir) / METRICS_FILE
    if not path.is_file():
        raise ConfigError(f"{run_dir} is not a run folder: {METRICS_FILE} is missing")
    resolve_within(path, run_dir)
    rows: dict[tuple[str, str], list[float]] = {}
    try:
        with open(path, newline="") as handle:
            for row in csv.DictReader(handle):
                rows.setdefault((row["backend"], row["algorithm"]), []).append(float(row["team_return"]))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    except (KeyError, TypeError, ValueError, UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(
            f"{path} is corrupt: {type(exc).__name__}: {exc} (expected columns backend, algorithm and a numeric "
            "team_return)"
        ) from exc
    return rows
