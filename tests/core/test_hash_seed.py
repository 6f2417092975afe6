"""``heron.cli.fix_hash_seed``: scripts that train with RLlib directly repeat their results run to run."""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = """
import os, sys
from heron.cli import fix_hash_seed
fix_hash_seed()
print(os.environ["PYTHONHASHSEED"], hash("room_a"), sys.argv[1:])
"""


def run_script(path, hash_seed=None):
    env = {key: value for key, value in os.environ.items() if key != "PYTHONHASHSEED"}
    if hash_seed is not None:
        env["PYTHONHASHSEED"] = hash_seed
    result = subprocess.run([sys.executable, str(path), "--seed", "3"], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_fix_hash_seed_restarts_the_script_once_with_its_arguments(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(SCRIPT)
    first, second = run_script(path), run_script(path)
    assert first == second
    assert first.startswith("0 ") and first.endswith("['--seed', '3']")


def test_fix_hash_seed_keeps_a_seed_the_user_set(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(SCRIPT)
    assert run_script(path, hash_seed="7").startswith("7 ")
