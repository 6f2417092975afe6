"""A run's TensorBoard event files, written with tensorboardX as training goes (``tensorboard --logdir runs``).

``RUN_DIR/tensorboard/<algorithm>/`` gets one event file per training session, with these scalars at
step = episode index:

* ``return/team`` and ``return/<agent_id>``: the episode's team and per-agent returns;
* ``episode/length``: its env steps; ``episode/env_steps_per_s``: env steps per wall-clock second of
  the session so far;
* ``train/<name>``: every figure of ``EpisodeRecord.metrics`` (losses, entropy or exploration noise).

Events are written synchronously and flushed after each episode, so a killed run keeps every episode it
reported. A resumed session's file starts with a purge event: TensorBoard then drops the older files'
events from that episode on, and the episodes trained again after the checkpoint show once.
"""

from __future__ import annotations

import functools
import math
import numbers
import sys
import time
from pathlib import Path
from types import SimpleNamespace

from heron.core.errors import BackendError
from heron.training.experiment import EpisodeRecord
from heron.utils.files import check_file_name, resolve_within, with_path

__all__ = ["TensorBoardLog"]

TENSORBOARD_DIR = "tensorboard"
_EVENT_FILES = "events.out.tfevents.*"


@functools.cache
def _tensorboardx() -> SimpleNamespace:
    """The tensorboardX pieces used here, imported without PyTorch.

    tensorboardX imports torch whenever it is installed (about 1.5 s, for tensor inputs HERON never
    passes), and heron-core never loads torch: it is hidden during the import unless already loaded.
    """
    hide = "torch" not in sys.modules
    if hide:
        sys.modules["torch"] = None  # type: ignore[assignment]  # makes "import torch" raise ImportError
    try:
        from tensorboardX.event_file_writer import EventsWriter
        from tensorboardX.proto.event_pb2 import Event, SessionLog
        from tensorboardX.proto.summary_pb2 import Summary
    finally:
        if hide:
            del sys.modules["torch"]
    return SimpleNamespace(EventsWriter=EventsWriter, Event=Event, SessionLog=SessionLog, Summary=Summary)


class TensorBoardLog:
    """The event file of one algorithm's training session in a run folder.

    Args:
        run_dir: the run folder.
        algorithm: the algorithm's name (its subdirectory).
        purge_from: on resume, the first episode this session trains; TensorBoard hides what older files
            hold from there on.
        env_steps: env steps trained before this session (on resume), to measure episode lengths.

    Raises:
        ConfigError: ``algorithm`` is not a plain name, or the directory resolves outside ``run_dir``.
    """

    def __init__(
        self, run_dir: str | Path, algorithm: str, *, purge_from: int | None = None, env_steps: int = 0
    ) -> None:
        tbx = _tensorboardx()
        self.algorithm = check_file_name(algorithm, "algorithm name")
        self.directory = Path(run_dir) / TENSORBOARD_DIR / algorithm
        resolve_within(self.directory, run_dir)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # a numbered suffix keeps two sessions started within the same second apart (and in order)
            suffix = f".{len(list(self.directory.glob(_EVENT_FILES))) + 1:04d}"
            self._writer = tbx.EventsWriter(str(self.directory / "events"), suffix)
            if purge_from is not None:
                start = tbx.SessionLog(status=tbx.SessionLog.START)
                self._writer.write_event(tbx.Event(wall_time=time.time(), step=purge_from, session_log=start))
                self._writer.flush()
        except OSError as exc:
            raise with_path(exc, self.directory) from exc
        self._started, self._start_steps, self._env_steps = time.perf_counter(), env_steps, env_steps

    def write(self, record: EpisodeRecord) -> None:
        """Write one episode's scalars and flush them.

        Raises:
            BackendError: a value of ``record.metrics`` is not a real number.
        """
        tbx = _tensorboardx()
        elapsed = time.perf_counter() - self._started
        scalars = {
            "return/team": record.team_return,
            **{f"return/{agent_id}": value for agent_id, value in record.agent_returns.items()},
            "episode/length": record.env_steps - self._env_steps,
        }
        if elapsed > 0:
            scalars["episode/env_steps_per_s"] = (record.env_steps - self._start_steps) / elapsed
        for name, value in record.metrics.items():
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
                raise BackendError(
                    f"{self.algorithm} episode {record.episode}: metrics[{name!r}] must be a finite number, "
                    f"got {value!r}"
                )
            scalars[f"train/{name}"] = value
        self._env_steps = record.env_steps
        values = [tbx.Summary.Value(tag=tag, simple_value=float(value)) for tag, value in scalars.items()]
        event = tbx.Event(wall_time=time.time(), step=record.episode, summary=tbx.Summary(value=values))
        try:
            self._writer.write_event(event)
            self._writer.flush()
        except OSError as exc:
            raise with_path(exc, self.directory) from exc

    def close(self) -> None:
        self._writer.close()

    def __enter__(self) -> TensorBoardLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
