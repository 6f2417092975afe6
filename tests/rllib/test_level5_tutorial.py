"""The Level-5 tutorial's RLlib script runs as a user runs it (one short PPO iteration)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

TUTORIAL = Path(__file__).resolve().parents[2] / "examples" / "level5_training_algorithms"


def test_rllib_integration_runs_trains_and_deploys():
    completed = subprocess.run(
        [sys.executable, "rllib_integration.py", "--iterations", "1"],
        cwd=TUTORIAL, capture_output=True, text=True, timeout=500, check=True,
    )
    out = completed.stdout
    assert "Part 2  ippo: modules ['room_a', 'room_b']" in out and "Part 3  mappo: modules ['Thermostat']" in out
    assert re.search(r"Part 5  iteration 1: training return -?[\d.]+, event-driven evaluation -?[\d.]+", out)
    deployed = re.search(r"deployed without Ray: synchronous return (-?[\d.]+) \(the live bridge: (-?[\d.]+)\)", out)
    assert deployed and abs(float(deployed[1]) - float(deployed[2])) < 0.5  # the export acts as the live policy
