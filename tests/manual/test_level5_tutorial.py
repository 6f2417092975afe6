"""The Level-5 tutorial's first script runs as a user runs it and shows what it says it shows."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

TUTORIAL = Path(__file__).resolve().parents[2] / "examples" / "level5_training_algorithms"


def test_policy_and_training_runs_and_learns(tmp_path):
    completed = subprocess.run(
        [sys.executable, "policy_and_training.py", "--episodes", "120", "--out", str(tmp_path)],
        cwd=TUTORIAL, capture_output=True, text=True, timeout=300, check=True,
    )
    out = completed.stdout
    by_hand = re.search(r"Part 2 .*team return (-?[\d.]+) \(first 20\) -> (-?[\d.]+) \(last 20\)", out)
    assert by_hand and float(by_hand[2]) > float(by_hand[1]) + 100  # REINFORCE by hand improves
    assert "reloaded policies act the same: True" in out
    reference = float(re.search(r"Part 1 .*mean team return (-?[\d.]+)", out)[1])
    for algorithm in ("ippo", "mappo"):
        row = re.search(rf"^\s+{algorithm}\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)$", out, re.M)
        assert row and float(row[4]) > reference  # both beat the proportional controller
    assert (tmp_path / "obs_delay.png").stat().st_size > 0 and (tmp_path / "obs_delay.csv").exists()
