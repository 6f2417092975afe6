"""The README's first Python example runs as written."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_example_runs(monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    module = types.ModuleType("readme_example")
    monkeypatch.setitem(sys.modules, module.__name__, module)  # dataclasses look their module up
    exec(compile(blocks[0], "README.md", "exec"), module.__dict__)
    rewards = module.rewards
    assert set(rewards) == {"room_a", "room_b"}
    assert all(reward <= 0 for reward in rewards.values())
