"""The plugin manager: validation, isolation of broken plugins, allow-list."""

from __future__ import annotations

import types

import pytest

from heron.core import BackendError
from heron.training import BackendSpec
from heron.training.hookspecs import hookimpl
from heron.training.plugins import HeronPluginManager


def plugin_module(name: str, **hooks) -> types.ModuleType:
    module = types.ModuleType(name)
    for hook_name, function in hooks.items():
        setattr(module, hook_name, hookimpl(function))
    return module


def backend(name: str) -> BackendSpec:
    return BackendSpec(name, ("ippo",), make_trainer=lambda spec: None, load_policies=lambda path: {})


@pytest.fixture
def manager(monkeypatch):
    monkeypatch.setenv("HERON_LOAD_PLUGINS", "")  # nothing from entry points: only what a test registers
    pm = HeronPluginManager()
    pm.load_entrypoints()
    return pm


def test_core_plugin_provides_the_thermostat_env(manager):
    assert manager.records["core"].ok
    assert "heron_envs" in manager.records["core"].hooks


def test_allow_list_loads_no_entry_point_plugins(manager):
    assert list(manager.records) == ["core"]
    assert manager.backends() == {}


def test_backend_is_listed_with_its_plugin(manager):
    manager.register_plugin(plugin_module("good", heron_backends=lambda: [backend("good")]), "good", "good-dist")
    entries = manager.backends()
    assert list(entries) == ["good"]
    assert entries["good"].plugin.distribution == "good-dist"
    assert manager.backend("good").algorithms == ("ippo",)


def test_unknown_hook_marks_the_plugin_broken(manager):
    record = manager.register_plugin(plugin_module("typo", heron_backend=lambda: []), "typo")
    assert not record.ok
    assert "unknown hook(s) ['heron_backend']" in record.error


def test_bad_hook_signature_marks_the_plugin_broken(manager):
    record = manager.register_plugin(plugin_module("sig", heron_commands=lambda cli, extra: None), "sig")
    assert "invalid hook implementation" in record.error


def test_raising_backend_is_broken_and_others_keep_working(manager):
    def explode():
        raise RuntimeError("no GPU found")

    manager.register_plugin(plugin_module("bad", heron_backends=explode), "bad")
    manager.register_plugin(plugin_module("good", heron_backends=lambda: [backend("good")]), "good")
    assert list(manager.backends()) == ["good"]
    assert "RuntimeError: no GPU found" in manager.records["bad"].error


def test_duplicate_backend_name_marks_the_later_plugin_broken(manager):
    manager.register_plugin(plugin_module("first", heron_backends=lambda: [backend("same")]), "first")
    manager.register_plugin(plugin_module("second", heron_backends=lambda: [backend("same")]), "second")
    assert manager.backends()["same"].plugin.name == "first"
    assert "already provided by plugin 'first'" in manager.records["second"].error


def test_unknown_backend_error_lists_installed_ones(manager):
    manager.register_plugin(plugin_module("good", heron_backends=lambda: [backend("good")]), "good")
    with pytest.raises(BackendError, match=r"unknown backend 'nope'; installed backends: \['good'\]"):
        manager.backend("nope")


def test_raise_switch_reraises_for_plugin_authors(manager, monkeypatch):
    monkeypatch.setenv("HERON_PLUGINS_RAISE", "1")
    with pytest.raises(BackendError, match="unknown hook"):
        manager.register_plugin(plugin_module("typo", heron_backend=lambda: []), "typo")


def test_backend_spec_validates_itself():
    with pytest.raises(BackendError, match="algorithms"):
        BackendSpec("x", (), lambda spec: None, lambda path: {})
