"""Shared fixtures: the plugin manager is rebuilt for every test that touches it."""

from __future__ import annotations

import pytest

from heron.training.plugins import reset_plugin_manager


@pytest.fixture(autouse=True)
def fresh_plugin_manager():
    """Each test sees the plugins installed now, not a manager cached by an earlier test."""
    reset_plugin_manager()
    yield
    reset_plugin_manager()
