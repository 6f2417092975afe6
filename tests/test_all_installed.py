"""With every distribution installed in one environment."""

from __future__ import annotations

import importlib

import pytest

from heron.training.plugins import get_plugin_manager


def test_every_public_import_path_works_together():
    for module in (
        "heron.core",
        "heron.core.policies",
        "heron.agents",
        "heron.envs",
        "heron.backends.manual",
        "heron.adaptors.rllib",
        "heron.adaptors.rllib_runner",
    ):
        importlib.import_module(module)


def test_both_backends_are_listed_and_working():
    backends = get_plugin_manager().backends()
    assert {"manual", "rllib"} <= set(backends)
    for name in ("manual", "rllib"):
        assert set(backends[name].spec.algorithms) >= {"ippo", "mappo"}
    broken = {name: record.error for name, record in get_plugin_manager().records.items() if not record.ok}
    assert not broken, broken


@pytest.mark.parametrize("module", ["heron.backends.manual", "heron.core"])
def test_manual_backend_and_core_do_not_pull_in_ray_or_torch(module):
    import subprocess
    import sys

    code = f"import sys, {module}; sys.exit(1 if {{'ray', 'torch'}} & set(sys.modules) else 0)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
