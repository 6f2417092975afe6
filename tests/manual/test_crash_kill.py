"""A real `heron train` process killed with SIGKILL at chosen moments: evaluate and resume work afterwards.

The child process runs the ``heron`` console script's ``run()`` with one trainer method wrapped so that, at
the chosen call, it writes a marker file and sleeps; the test waits for the marker, then kills the process
with SIGKILL. No timing decides where the kill lands.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from heron.runs.checkpoints import CheckpointSlot

from .test_resume import IPPO, assert_same_run, heron, metrics_rows, progress_of, uninterrupted

GATED_HERON = """
import os, sys, time
from pathlib import Path
from heron.backends.manual.trainer import ManualTrainer

method, stop_at, marker = os.environ["GATE_METHOD"], int(os.environ["GATE_CALL"]), Path(os.environ["GATE_MARKER"])
original, calls = getattr(ManualTrainer, method), []

def gated(self, *args, **kwargs):
    result = original(self, *args, **kwargs) if method == "save" else None  # save: the files are written
    calls.append(1)
    if len(calls) == stop_at:
        marker.write_text(str(os.getpid()))
        time.sleep(600)
    return result if method == "save" else original(self, *args, **kwargs)

setattr(ManualTrainer, method, gated)
from heron.cli import run
run()
"""
HANG_GUARD_S = 120  # only a hung child hits this


@pytest.fixture(scope="module")
def ippo_reference(tmp_path_factory):
    """The same run as the killed ones, uninterrupted."""
    return uninterrupted(tmp_path_factory, IPPO)


def kill_heron_train(out: Path, method: str, call: int, args: Sequence[str] = IPPO) -> Path:
    """Start ``heron train ARGS --out OUT`` (default: the IPPO run), SIGKILL it when ``ManualTrainer.<method>`` is
    called the ``call``-th time.

    ``_iteration``: before that iteration's rollout; ``save``: after the trainer wrote its checkpoint files into
    the slot's staging directory, before the slot publishes them. Returns the run folder.
    """
    marker = out / "paused"
    env = {**os.environ, "PYTHONHASHSEED": "0", "GATE_METHOD": method, "GATE_CALL": str(call),
           "GATE_MARKER": str(marker)}
    process = subprocess.Popen([sys.executable, "-c", GATED_HERON, "train", *args, "--out", str(out / "runs")],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + HANG_GUARD_S
    try:
        while not marker.exists():
            if process.poll() is not None:
                pytest.fail(f"heron train exited with {process.returncode} before the kill: {process.stderr.read()}")
            if time.monotonic() > deadline:
                pytest.fail("heron train never reached the kill point")
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        assert process.wait() == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()
    (run_dir,) = (out / "runs").iterdir()
    return run_dir


def test_killed_before_the_first_checkpoint(tmp_path, ippo_reference):
    run_dir = kill_heron_train(tmp_path, "_iteration", 1)
    assert sorted(os.listdir(run_dir)) == ["config.json", "metrics.csv", "tensorboard"]  # written before training
    assert metrics_rows(run_dir) == metrics_rows(ippo_reference)[:1]  # the header
    evaluated = heron("evaluate", str(run_dir), "--episodes", "2")
    assert evaluated.exit_code == 1 and len(evaluated.output.strip().splitlines()) == 1
    assert "no checkpoint of 'ippo'" in evaluated.output

    resumed = heron("train", "--resume", str(run_dir))
    assert resumed.exit_code == 0 and "ippo: no checkpoint yet, training from scratch" in resumed.output
    assert_same_run(run_dir, ippo_reference)


def test_killed_mid_training_after_some_checkpoints(tmp_path, ippo_reference):
    run_dir = kill_heron_train(tmp_path, "_iteration", 6)  # 5 updates of 4 episodes done, checkpoints at 8 and 16
    assert len(metrics_rows(run_dir)) == 1 + 20 and progress_of(run_dir, "ippo")["episodes"] == 16
    evaluated = heron("evaluate", str(run_dir), "--episodes", "2")
    assert evaluated.exit_code == 0 and "ippo" in evaluated.output

    resumed = heron("train", "--resume", str(run_dir))
    assert resumed.exit_code == 0 and "ippo: continuing from episode 16" in resumed.output
    assert_same_run(run_dir, ippo_reference)


def test_killed_during_a_save(tmp_path, ippo_reference):
    run_dir = kill_heron_train(tmp_path, "save", 2)  # the checkpoint of episode 16 written, not yet published
    slot = CheckpointSlot(run_dir, "ippo")
    assert [name for name in os.listdir(slot.path) if name.startswith(".")]  # the killed save's staging directory
    assert progress_of(run_dir, "ippo")["episodes"] == 8 and len(metrics_rows(run_dir)) == 1 + 16
    evaluated = heron("evaluate", str(run_dir), "--episodes", "2")
    assert evaluated.exit_code == 0 and "ippo" in evaluated.output

    resumed = heron("train", "--resume", str(run_dir))
    assert resumed.exit_code == 0 and "ippo: continuing from episode 8" in resumed.output
    assert_same_run(run_dir, ippo_reference)
    assert not [name for name in os.listdir(slot.path) if name.startswith(".")]  # cleaned up by the next save
