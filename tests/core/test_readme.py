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
