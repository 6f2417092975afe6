"""The plugin manager: validation, isolation of broken plugins, name clashes, hints, allow-list, call order."""

from __future__ import annotations

import sys
import types

import pytest

from heron.core import BackendError, ConfigError
from heron.training import BackendSpec, EnvSpec, env_specs, make_env_config, registry
from heron.training.hookspecs import hookimpl
from heron.training.plugins import HeronPluginManager, get_plugin_manager
from heron.utils.hints import close_matches, did_you_mean

from .plugin_fixtures import install_distribution


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


def test_a_backend_name_two_third_party_plugins_offer_is_used_by_neither(manager):
    manager.register_plugin(plugin_module("first", heron_backends=lambda: [backend("same"), backend("one")]), "first",
                            "dist-one")
    manager.register_plugin(plugin_module("second", heron_backends=lambda: [backend("same")]), "second", "dist-two")
    assert list(manager.backends()) == ["one"]  # the plugins' other backends still work
    assert manager.records["first"].ok and manager.records["second"].ok
    (clash,) = manager.name_clashes("backend")
    assert clash.describe() == (
        "backend 'same' is offered by plugin 'second' (dist-two): skipped and plugin 'first' (dist-one): skipped; "
        "none is used; uninstall all but one, or choose one with HERON_LOAD_PLUGINS"
    )
    with pytest.raises(BackendError, match=r"^backend 'same' is not available: backend 'same' is offered by plugin"):
        manager.backend("same")


@pytest.mark.parametrize("builtin_first", [True, False], ids=["built-in registered first", "impostor first"])
def test_a_third_party_backend_named_like_a_built_in_one_is_skipped_in_any_order(manager, builtin_first):
    real = plugin_module("manual", heron_backends=lambda: [backend("manual")])
    impostor = plugin_module("evil", heron_backends=lambda: [backend("manual"), backend("evil")])
    plugins = [(real, "manual", "heron-backend-manual"), (impostor, "evil", "heron-evil")]
    for plugin, name, dist in plugins if builtin_first else plugins[::-1]:
        manager.register_plugin(plugin, name, dist)
    entries = manager.backends()
    assert entries["manual"].plugin.name == "manual" and entries["evil"].plugin.name == "evil"
    assert manager.records["manual"].ok and manager.records["evil"].ok  # neither is listed as broken
    (clash,) = manager.name_clashes()
    assert clash.kept is manager.records["manual"]
    described = clash.describe()
    assert described.startswith("backend 'manual' is offered by plugin ")
    assert "plugin 'manual' (heron-backend-manual, built in): kept" in described
    assert "plugin 'evil' (heron-evil): skipped" in described
    assert described.endswith("; a built-in name is never given to another plugin")


def test_the_names_of_herons_backends_are_reserved_even_when_they_are_not_installed(manager):
    manager.register_plugin(plugin_module("evil", heron_backends=lambda: [backend("rllib")]), "evil", "heron-evil")
    assert manager.backends() == {}
    with pytest.raises(BackendError) as info:
        manager.backend("rllib")
    assert str(info.value) == (
        "backend 'rllib' is not available: backend 'rllib' is offered by plugin 'evil' (heron-evil): skipped; the "
        "name belongs to heron-backend-rllib, which is not installed (backend 'rllib' is provided by "
        "heron-backend-rllib, which is not on PyPI yet: install it from a HERON checkout with pip install "
        "./heron_backend_rllib)"
    )


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
    assert sorted(env_specs()) == ["good", "microgrid", "sensor_network", "thermostat"]
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
    assert heron_order == pluggy_order == ["e", "b", "thermostat", "microgrid", "sensor_network", "d", "a", "c"]


def test_tryfirst_puts_a_plugins_env_first(global_manager):
    global_manager.register_plugin(env_plugin("early", hookimpl(tryfirst=True)), "early")
    global_manager.register_plugin(env_plugin("late"), "late")
    assert list(env_specs()) == ["early", "thermostat", "microgrid", "sensor_network", "late"]


def test_a_plugin_cannot_take_the_name_of_a_demo_environment(global_manager):
    impostor = plugin_module("impostor", heron_envs=lambda: [env("thermostat"), env("other")])
    global_manager.register_plugin(impostor, "impostor", "heron-impostor")
    specs = env_specs()
    assert specs["thermostat"].description != "the thermostat env"  # the demo env, not the impostor's
    assert specs["other"].description == "the other env" and global_manager.records["impostor"].ok
    (clash,) = global_manager.name_clashes("environment")
    assert clash.describe() == (
        "environment 'thermostat' is offered by plugin 'core' (heron-core, built in): kept and plugin 'impostor' "
        "(heron-impostor): skipped; a built-in name is never given to another plugin"
    )


def test_an_env_name_two_third_party_plugins_offer_is_used_by_neither(global_manager):
    preferred = plugin_module("preferred", hookimpl(tryfirst=True), heron_envs=lambda: [env("same")])
    global_manager.register_plugin(preferred, "preferred")
    global_manager.register_plugin(plugin_module("plain", heron_envs=lambda: [env("same"), env("other")]), "plain")
    specs = env_specs()
    assert "same" not in specs and "other" in specs  # tryfirst orders the calls, it does not pick a winner
    (clash,) = global_manager.name_clashes("environment")
    assert [record.name for record in clash.providers] == ["preferred", "plain"] and clash.kept is None


def test_a_plugin_broken_in_one_hook_still_provides_the_others_whatever_the_call_order(global_manager):
    plugin = plugin_module("half", heron_backends=lambda: "not a list", heron_envs=lambda: [env("half_env")])
    global_manager.register_plugin(plugin, "half")
    assert "half_env" in env_specs()
    assert global_manager.backends() == {}
    assert "half_env" in env_specs()  # after the failed backends call too
    assert global_manager.records["half"].errors == {
        "heron_backends": "heron_backends returned 'not a list', expected a list of BackendSpec objects"
    }


def test_hook_parameter_with_a_default_is_passed_as_pluggy_does(manager):
    received = []
    manager.register_plugin(plugin_module("opt", heron_commands=lambda cli=None: received.append(cli)), "opt")
    list(manager.call_each("heron_commands", cli="the group"))
    manager.pm.hook.heron_commands(cli="pluggy's group")
    assert received == ["the group", "pluggy's group"]


def test_unknown_backend_error_lists_installed_ones_and_suggests_no_install(manager):
    manager.register_plugin(plugin_module("good", heron_backends=lambda: [backend("good")]), "good")
    with pytest.raises(BackendError, match=r"^unknown backend 'nope'; installed backends: \['good'\]$"):
        manager.backend("nope")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("manul", "unknown backend 'manul' (did you mean 'manual'?); installed backends: ['good', 'manual']"),
        ("rlib", "unknown backend 'rlib' (did you mean 'rllib'?); installed backends: ['good', 'manual']"),
        ("god", "unknown backend 'god' (did you mean 'good'?); installed backends: ['good', 'manual']"),
        ("rllib", "backend 'rllib' is not installed; backend 'rllib' is provided by heron-backend-rllib, which is not "
                  "on PyPI yet: install it from a HERON checkout with pip install ./heron_backend_rllib (installed "
                  "backends: ['good', 'manual'])"),
    ],
)
def test_misspelt_backend_gets_the_closest_names_and_a_known_one_a_working_install_hint(manager, name, message):
    manager.register_plugin(plugin_module("good", heron_backends=lambda: [backend("good")]), "good")
    manager.register_plugin(plugin_module("m", heron_backends=lambda: [backend("manual")]), "m", "heron-backend-manual")
    with pytest.raises(BackendError) as info:
        manager.backend(name)
    assert str(info.value) == message


def test_a_broken_known_backend_names_its_plugin_and_error(manager):
    def explode():
        raise ImportError("No module named 'torch'")

    manager.register_plugin(plugin_module("rllib", heron_backends=explode), "rllib", "heron-backend-rllib")
    with pytest.raises(BackendError, match=r"^backend 'rllib' is installed but broken: plugin 'rllib' "
                                           r"\(heron-backend-rllib, built in\): hook heron_backends raised "
                                           r"ImportError: No module named 'torch'$"):
        manager.backend("rllib")


@pytest.mark.parametrize(
    "raise_it",
    [lambda: sys.exit(1), lambda: sys.exit(), lambda: (_ for _ in ()).throw(GeneratorExit), lambda: exit_base()],
    ids=["sys.exit(1)", "sys.exit()", "GeneratorExit", "BaseException subclass"],
)
def test_a_hook_raising_systemexit_or_another_baseexception_is_contained(manager, raise_it):
    manager.register_plugin(plugin_module("bad", heron_backends=raise_it, heron_envs=lambda: [env("still")]), "bad")
    manager.register_plugin(plugin_module("good", heron_backends=lambda: [backend("good")]), "good")
    assert list(manager.backends()) == ["good"]
    assert manager.records["bad"].error.startswith("hook heron_backends raised ")
    assert [spec.name for _, specs in manager.call_each("heron_envs") for spec in specs][-1] == "still"


class PluginBaseException(BaseException):
    pass


def exit_base():
    raise PluginBaseException("plugin gave up")


def test_sys_exit_message_says_the_plugin_called_it(manager):
    manager.register_plugin(plugin_module("bad", heron_backends=lambda: sys.exit(3)), "bad")
    manager.backends()
    assert manager.records["bad"].error == "hook heron_backends raised SystemExit(3) (the plugin called sys.exit)"


def test_a_keyboard_interrupt_in_a_hook_is_the_user_stopping_heron(manager):
    def interrupted():
        raise KeyboardInterrupt

    manager.register_plugin(plugin_module("slow", heron_backends=interrupted), "slow")
    with pytest.raises(KeyboardInterrupt):
        manager.backends()


def test_registering_a_plugin_name_twice_is_an_error(manager):
    with pytest.raises(BackendError, match=r"a plugin named 'core' is already registered \(heron.demo_envs.plugin\)"):
        manager.register_plugin(env_plugin("core"), "core")


# ------------------------------------------------------ plugins from entry points
PLUGIN_SOURCES = {
    "exits_at_import": "import sys\nsys.exit(1)\n",
    "raises_systemexit": "raise SystemExit\n",
    "raises_base": "class Stop(BaseException):\n    pass\n\nraise Stop('no')\n",
    "fine_plugin": (
        "from heron.training import EnvSpec\nfrom heron.training.hookspecs import hookimpl\n\n\n"
        "@hookimpl\ndef heron_envs():\n    return [EnvSpec('fine_env', dict, 'from an entry point')]\n"
    ),
}


@pytest.fixture
def installed(tmp_path, monkeypatch):
    """A distribution ``heron-test-plugins`` that importlib.metadata finds on sys.path, holding PLUGIN_SOURCES."""
    install_distribution(tmp_path, "heron-test-plugins", PLUGIN_SOURCES)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("HERON_LOAD_PLUGINS", ",".join(PLUGIN_SOURCES))
    yield tmp_path
    for name in PLUGIN_SOURCES:
        sys.modules.pop(name, None)


def test_plugins_that_exit_at_import_are_listed_broken_and_heron_keeps_working(installed):
    manager = HeronPluginManager()
    manager.load_entrypoints()
    errors = {name: record.error for name, record in manager.records.items()}
    assert errors["exits_at_import"] == "import failed: SystemExit(1) (the plugin called sys.exit)"
    assert errors["raises_systemexit"] == "import failed: SystemExit(None) (the plugin called sys.exit)"
    assert errors["raises_base"] == "import failed: Stop: no"
    assert errors["fine_plugin"] is None and errors["core"] is None
    assert manager.records["fine_plugin"].distribution == "heron-test-plugins"
    found = manager.collect_named("heron_envs", EnvSpec, "environment")
    assert sorted(found) == ["fine_env", "microgrid", "sensor_network", "thermostat"]


def test_an_entry_point_named_like_heron_cores_gets_its_own_record(installed, monkeypatch):
    source = PLUGIN_SOURCES["fine_plugin"].replace("fine_env", "second_env")
    second = installed / "second"
    install_distribution(second, "heron-test-second", {"second_plugin": source}, {"core": "second_plugin"})
    monkeypatch.syspath_prepend(str(second))
    monkeypatch.setenv("HERON_LOAD_PLUGINS", "core")
    manager = HeronPluginManager()
    try:
        manager.load_entrypoints()
    finally:
        sys.modules.pop("second_plugin", None)
    assert manager.records["core"].distribution == "heron-core"  # HERON's own loads first and keeps its name
    assert manager.records["core@heron-test-second"].ok
    found = manager.collect_named("heron_envs", EnvSpec, "environment")
    assert sorted(found) == ["microgrid", "second_env", "sensor_network", "thermostat"]


def test_a_keyboard_interrupt_at_import_stops_heron(installed):
    (installed / "raises_base.py").write_text("raise KeyboardInterrupt\n")
    with pytest.raises(KeyboardInterrupt):
        HeronPluginManager().load_entrypoints()


# ------------------------------------------------------------ env arguments
def test_env_arguments_come_from_make_config_with_defaults_and_docstring():
    arguments = env_specs()["thermostat"].arguments()
    assert [str(argument) for argument in arguments.values()] == [
        "num_rooms=2", "max_steps=50", "initial_range=(15.0, 25.0)", "observation_mode='local'",
        "coordinator_protocol=None",
    ]
    assert arguments["num_rooms"].help == "number of rooms (field agents)."
    assert arguments["coordinator_protocol"].help.startswith("put the rooms under a \"building\" coordinator with "
                                                             "this protocol")


def documented(size, *, mode="a", **extra):
    """A config.

    Args:
        size (int): how big,
            over two lines.
        mode: which mode.

    Returns:
        a dict.
    """
    return {}


def test_env_arguments_mark_required_and_any_keyword_arguments():
    arguments = EnvSpec("doc", documented).arguments()
    assert [str(argument) for argument in arguments.values()] == ["size", "mode='a'", "**extra"]
    assert arguments["size"].required and arguments["size"].help == "how big, over two lines."
    assert arguments["mode"].help == "which mode." and arguments["**extra"].help == ""
    assert EnvSpec("no_signature", dict).arguments() == {}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_room": 3}, "environment 'thermostat' has no argument 'num_room' (did you mean 'num_rooms'?); its "
                          "arguments are: num_rooms=2, max_steps=50, initial_range=(15.0, 25.0), "
                          "observation_mode='local', coordinator_protocol=None"),
        ({"max_step": 3, "zzz": 1}, "environment 'thermostat' has no argument 'max_step' (did you mean 'max_steps'?); "
                                    "no argument 'zzz'; its arguments are: num_rooms=2,"),
    ],
)
def test_unknown_env_argument_is_one_line_with_did_you_mean_and_the_valid_ones(kwargs, message):
    with pytest.raises(ConfigError) as info:
        make_env_config("thermostat", **kwargs)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_missing_required_env_argument_and_misspelt_env_name(monkeypatch):
    monkeypatch.setitem(registry._runtime, "doc", EnvSpec("doc", documented))
    with pytest.raises(ConfigError, match=r"^environment 'doc' needs the argument\(s\) \['size'\]; its arguments are: "
                                          r"size, mode='a', \*\*extra$"):
        make_env_config("doc")
    with pytest.raises(ConfigError, match=r"^unknown environment 'thermostt' \(did you mean 'thermostat'\?\); known "):
        make_env_config("thermostt")


def test_did_you_mean_lists_up_to_three_close_names():
    assert did_you_mean("ipo", ["ippo", "mappo"]) == " (did you mean 'ippo'?)"
    assert did_you_mean("ppo", ["ippo", "mappo"]) == " (did you mean 'ippo' or 'mappo'?)"
    assert len(close_matches("a", ["a1", "a2", "a3", "a4", "a1"])) == 3
    assert did_you_mean("xyz", ["ippo"]) == "" and did_you_mean(3, ["ippo"]) == ""


def test_raise_switch_reraises_for_plugin_authors(manager, monkeypatch):
    monkeypatch.setenv("HERON_PLUGINS_RAISE", "1")
    with pytest.raises(BackendError, match="unknown hook"):
        manager.register_plugin(plugin_module("typo", heron_backend=lambda: []), "typo")


def test_backend_spec_validates_itself():
    with pytest.raises(BackendError, match="algorithms"):
        BackendSpec("x", (), lambda spec: None, lambda path: {})
