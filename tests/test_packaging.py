"""Packaging rules of the three distributions sharing the ``heron`` namespace."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DISTRIBUTIONS = ["heron_core", "heron_backend_manual", "heron_backend_rllib"]
SHARED_LEVELS = {"heron/__init__.py", "heron/backends/__init__.py"}


@pytest.mark.parametrize("directory", DISTRIBUTIONS)
def test_wheel_ships_every_module_and_no_init_at_shared_namespace_levels(directory, tmp_path):
    source = REPO / directory
    if not (source / "pyproject.toml").exists():
        pytest.skip(f"{directory} does not exist yet")
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip_wheel, "-w", str(tmp_path), str(source)], check=True)
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = names & SHARED_LEVELS
    assert not shipped, f"{wheel.name} ships {shipped}: it would hide the other distributions"
    sources = {path.relative_to(source / "src").as_posix() for path in (source / "src").rglob("*.py")}
    missing = sorted(sources - names)
    assert not missing, f"{wheel.name} lacks {missing} (an ignore pattern or the build config drops them)"


def test_heron_is_a_namespace_package():
    spec = importlib.util.find_spec("heron")
    assert spec is not None and spec.origin in (None, "namespace"), "heron must have no __init__.py"
    assert len(list(spec.submodule_search_locations)) >= 1


def test_core_does_not_import_ray_or_torch():
    code = (
        "import sys, heron.core, heron.envs, heron.agents, heron.training, heron.evaluation, heron.runs;"
        "import heron.cli.main;"
        "bad = [m for m in ('ray', 'torch') if m in sys.modules]; sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
