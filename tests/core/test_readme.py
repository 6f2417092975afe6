"""The README's Python examples run as written (those that need a backend run in the manual session)."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
CORE_BLOCKS = [block for block in BLOCKS if "make_trainer" not in block]


def run_block(block: str, monkeypatch) -> types.ModuleType:
    module = types.ModuleType("readme_example")
    monkeypatch.setitem(sys.modules, module.__name__, module)  # dataclasses look their module up
    exec(compile(block, "README.md", "exec"), module.__dict__)
    return module


def test_readme_has_core_examples():
    assert len(CORE_BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(CORE_BLOCKS)))
def test_readme_core_example_runs(index, monkeypatch):
    module = run_block(CORE_BLOCKS[index], monkeypatch)
    if hasattr(module, "rewards"):
        assert set(module.rewards) == {"room_a", "room_b"}
        assert all(reward <= 0 for reward in module.rewards.values())
    if hasattr(module, "stats"):
        assert module.stats.summary()["num_events"] > 0
        assert set(module.analyzer.get_reward_history()) >= {"room_a", "room_b"}


def test_ci_runs_the_readme_test_command():
    """``.ci/run`` calls the README's test command verbatim (the command that installs nox and runs it)."""
    commands = re.findall(r"```bash\n(.*?)\n```", README.read_text(), flags=re.S)
    test_command = next(command for command in commands if command.endswith("&& nox"))
    ci_script = (README.parent / ".ci" / "run").read_text().splitlines()
    assert test_command in ci_script
