"""The plugin manager: validation, isolation of broken plugins, allow-list, pluggy's call order."""

from __future__ import annotations

import types

import pytest

from heron.core import BackendError
from heron.training import BackendSpec, EnvSpec, env_specs
from heron.training.hookspecs import hookimpl
from heron.training.plugins import HeronPluginManager, get_plugin_manager


def plugin_module(name: str, mark=hookimpl, **hooks) -> types.ModuleType:
    module = types.ModuleType(name)
    for hook_name, function in hooks.items():
        setattr(module, hook_name, mark(function))
    return module


def backend(name: str) -> BackendSpec:
    return BackendSpec(name, ("ippo",), make_trainer=lambda spec: None, load_policies=lambda path: {})


def env(name: str) -> EnvSpec:
    return EnvSpec(name, dict, f"the {name} env")


def env_plugin(name: str, mark=hookimpl) -> types.ModuleType:
    """A plugin whose heron_envs returns one env named after the plugin."""
    return plugin_module(name, mark, heron_envs=lambda: [env(name)])


def wrapping_hook():
    return (yield)


@pytest.fixture
def manager(monkeypatch):
    monkeypatch.setenv("HERON_LOAD_PLUGINS", "")  # nothing from entry points: only what a test registers
    pm = HeronPluginManager()
    pm.load_entrypoints()
    return pm


@pytest.fixture
def global_manager(monkeypatch):
    """The process-wide manager env_specs() uses, with only the core plugin loaded (conftest resets it)."""
    monkeypatch.setenv("HERON_LOAD_PLUGINS", "")
    return get_plugin_manager()


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


def test_duplicate_backend_name_marks_the_plugin_called_later_broken(manager):
    manager.register_plugin(plugin_module("first", heron_backends=lambda: [backend("same")]), "first")
    manager.register_plugin(plugin_module("second", heron_backends=lambda: [backend("same")]), "second")
    # pluggy calls the last registered plain plugin first, so "second" keeps the name
    assert manager.backends()["same"].plugin.name == "second"
    error = manager.records["first"].error
    assert "heron_backends returned backend name 'same', which is already provided by plugin 'second'" in error


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (backend("x"), "expected a list of BackendSpec objects"),
        ([backend("x"), "oops"], "returned 'oops', expected a list of BackendSpec objects"),
        ([backend("x"), backend("x")], "returned the name(s) ['x'] more than once"),
    ],
)
def test_malformed_backend_result_marks_the_plugin_broken(manager, result, expected):
    manager.register_plugin(plugin_module("bad", heron_backends=lambda: result), "bad")
    manager.register_plugin(plugin_module("good", heron_backends=lambda: [backend("good")]), "good")
    assert list(manager.backends()) == ["good"]
    assert expected in manager.records["bad"].error


@pytest.mark.parametrize("option", ["wrapper", "hookwrapper"])
def test_hook_wrapper_marks_the_plugin_broken_and_others_keep_working(global_manager, option):
    wrapper = plugin_module("wrap", hookimpl(**{option: True}), heron_envs=wrapping_hook)
    wrapper.heron_backends = hookimpl(lambda: [backend("wrapped")])
    record = global_manager.register_plugin(wrapper, "wrap")
    global_manager.register_plugin(env_plugin("good"), "good")
    assert not record.ok and record.hooks == []
    assert f"hook heron_envs is declared with @hookimpl({option}=True)" in record.error
    assert "HERON does not support hook wrappers" in record.error
    assert global_manager.pm.get_plugin("wrap") is None  # unregistered: pluggy's own call skips it too
    assert sorted(env_specs()) == ["good", "thermostat"]
    assert global_manager.backends() == {}


def test_hook_wrapper_is_raised_for_plugin_authors(manager, monkeypatch):
    monkeypatch.setenv("HERON_PLUGINS_RAISE", "1")
    wrapper = plugin_module("wrap", hookimpl(wrapper=True), heron_envs=wrapping_hook)
    expected = r"plugin 'wrap': hook heron_envs is declared with @hookimpl\(wrapper=True\); HERON does not support"
    with pytest.raises(BackendError, match=expected):
        manager.register_plugin(wrapper, "wrap")


def test_call_order_is_pluggys_own(manager):
    for name, mark in [
        ("a", hookimpl),
        ("b", hookimpl(tryfirst=True)),
        ("c", hookimpl(trylast=True)),
        ("d", hookimpl),
        ("e", hookimpl(tryfirst=True)),
    ]:
        manager.register_plugin(env_plugin(name, mark), name)
    heron_order = [spec.name for _, specs in manager.call_each("heron_envs") for spec in specs]
    pluggy_order = [spec.name for specs in manager.pm.hook.heron_envs() for spec in specs]
    # heron-core's own plugin is registered first and marked tryfirst: after the later tryfirst ones
    assert heron_order == pluggy_order == ["e", "b", "thermostat", "d", "a", "c"]


def test_tryfirst_puts_a_plugins_env_first(global_manager):
    global_manager.register_plugin(env_plugin("early", hookimpl(tryfirst=True)), "early")
    global_manager.register_plugin(env_plugin("late"), "late")
    assert list(env_specs()) == ["early", "thermostat", "late"]


def test_a_plugin_cannot_take_the_name_of_a_demo_environment(global_manager):
    global_manager.register_plugin(plugin_module("impostor", heron_envs=lambda: [env("thermostat")]), "impostor")
    specs = env_specs()
    assert specs["thermostat"].description != "the thermostat env"  # the demo env, not the impostor's
    assert "already provided by plugin 'core'" in global_manager.records["impostor"].error


def test_duplicate_env_name_goes_to_the_plugin_called_first(global_manager):
    preferred = plugin_module("preferred", hookimpl(tryfirst=True), heron_envs=lambda: [env("same")])
    global_manager.register_plugin(preferred, "preferred")
    global_manager.register_plugin(plugin_module("plain", heron_envs=lambda: [env("same"), env("other")]), "plain")
    specs = env_specs()
    assert specs["same"].description == "the same env" and "other" not in specs  # the clashing plugin gives nothing
    error = global_manager.records["plain"].error
    assert "heron_envs returned environment name 'same', which is already provided by plugin 'preferred'" in error


def test_hook_parameter_with_a_default_is_passed_as_pluggy_does(manager):
    received = []
    manager.register_plugin(plugin_module("opt", heron_commands=lambda cli=None: received.append(cli)), "opt")
    list(manager.call_each("heron_commands", cli="the group"))
    manager.pm.hook.heron_commands(cli="pluggy's group")
    assert received == ["the group", "pluggy's group"]


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
