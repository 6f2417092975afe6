"""Every error a ``heron`` command meets is one line on stderr and a non-zero exit; plugin commands never hijack."""

from __future__ import annotations

import errno
import types

import click
import pytest
from click.testing import CliRunner

from heron.cli._console import HintedChoice
from heron.cli.main import cli as heron_cli
from heron.core import ConfigError
from heron.core.errors import add_origin_note
from heron.training import BackendSpec, EnvSpec
from heron.training.hookspecs import hookimpl
from heron.training.plugins import get_plugin_manager

from .plugin_fixtures import install_distribution, run_heron

HINT = "(set HERON_DEBUG=1 for the traceback)"


def noted_error():
    exc = ValueError("flow must be positive")
    add_origin_note(exc, "pump", "Pump.apply_action()")
    return exc


class PluginStop(BaseException):
    pass


FAILURES = {
    "heron-error": (lambda: ConfigError("pump 'p1': flow must be positive, got -1"), 1,
                    "Error: pump 'p1': flow must be positive, got -1"),
    "os-error-with-path": (lambda: OSError(errno.ENOSPC, "No space left on device", "/data/runs/x/metrics.csv"), 1,
                           "Error: /data/runs/x/metrics.csv: No space left on device"),
    "os-error-rename": (lambda: FileExistsError(errno.EEXIST, "File exists", "/a/tmp", None, "/a/final"), 1,
                        "Error: /a/tmp -> /a/final: File exists"),
    "os-error-without-path": (lambda: OSError(errno.ENOSPC, "No space left on device"), 1,
                              f"Error: No space left on device (ENOSPC) {HINT}"),
    "os-error-without-errno": (lambda: ConnectionError("ray head refused"), 1,
                               f"Error: ConnectionError: ray head refused {HINT}"),
    "runtime-error": (lambda: RuntimeError("boom"), 1, f"Error: RuntimeError: boom {HINT}"),
    "multi-line": (lambda: ValueError("first line\n  second line\n"), 1,
                   f"Error: ValueError: first line second line {HINT}"),
    "key-error": (lambda: KeyError("lr"), 1, f"Error: KeyError: 'lr' {HINT}"),
    "no-message": (lambda: RuntimeError(), 1, f"Error: RuntimeError {HINT}"),
    "with-note": (noted_error, 1, f"Error: ValueError: flow must be positive (raised in Pump.apply_action() of agent "
                                  f"'pump') {HINT}"),
    "base-exception": (lambda: PluginStop("gave up"), 1, f"Error: PluginStop: gave up {HINT}"),
    "interrupt": (lambda: KeyboardInterrupt(), 130, "Interrupted."),
}


def failing_commands(cli: click.Group) -> None:
    for name, (make, _code, _line) in FAILURES.items():
        def fail(make=make):
            raise make()

        cli.command(name)(fail)

    @cli.command("exits-3")
    def exits():
        raise SystemExit(3)


def plugin(name: str, **hooks) -> types.ModuleType:
    module = types.ModuleType(name)
    for hook_name, function in hooks.items():
        setattr(module, hook_name, hookimpl(function))
    return module


@pytest.fixture
def manager(monkeypatch):
    """The process-wide plugin manager with only heron-core's plugin and what a test registers."""
    monkeypatch.setenv("HERON_LOAD_PLUGINS", "")
    monkeypatch.delenv("HERON_DEBUG", raising=False)
    return get_plugin_manager()


@pytest.fixture
def failing(manager):
    manager.register_plugin(plugin("failing", heron_commands=failing_commands), "failing", "heron-failing")
    return manager


def invoke(*args: str) -> click.testing.Result:
    return CliRunner().invoke(heron_cli, list(args))


@pytest.mark.parametrize("name", list(FAILURES))
def test_a_failing_plugin_command_prints_one_line_and_exits_non_zero(failing, name):
    _make, code, line = FAILURES[name]
    result = invoke(name)
    assert result.exit_code == code
    assert result.stderr.splitlines() == [line] and result.stdout == ""


def test_a_command_may_still_exit_with_its_own_code(failing):
    assert invoke("exits-3").exit_code == 3


def test_heron_debug_lets_the_exception_through_with_its_traceback(failing, monkeypatch):
    monkeypatch.setenv("HERON_DEBUG", "1")
    result = invoke("runtime-error")
    assert isinstance(result.exception, RuntimeError) and str(result.exception) == "boom"


def test_usage_errors_stay_clicks_own_with_the_closest_command(failing):
    result = invoke("runtime-eror")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == "Error: No such command 'runtime-eror' (did you mean 'runtime-error'?)."


def test_hinted_choice_suggests_the_closest_value():
    @click.command()
    @click.option("--algo", type=HintedChoice(["ippo", "mappo", "all"]))
    def pick(algo):
        click.echo(algo)

    result = CliRunner().invoke(pick, ["--algo", "ipo"])
    assert result.exit_code == 2
    assert ("Invalid value for '--algo': 'ipo' is not one of 'ippo', 'mappo', 'all' (did you mean 'ippo'?)"
            in result.stderr)
    assert CliRunner().invoke(pick, ["--algo", "mappo"]).stdout == "mappo\n"


# --------------------------------------------------------------- plugin commands
def impostor_commands(cli: click.Group) -> None:
    @cli.command("train")
    def train():
        click.echo("hijacked")

    @cli.command("hello")
    def hello():
        click.echo("hello from the impostor")


def other_hello(cli: click.Group) -> None:
    @cli.command("hello")
    def hello():
        click.echo("hello from the other")


def test_a_plugin_command_named_like_a_built_in_never_replaces_it(manager):
    manager.register_plugin(plugin("impostor", heron_commands=impostor_commands), "impostor", "heron-impostor")
    listing = CliRunner(env={"COLUMNS": "250"}).invoke(heron_cli, ["backends", "-v"]).stdout  # the first command
    assert ("command 'train' is offered by heron's own command line (heron-core, built in): kept and plugin "
            "'impostor' (heron-impostor): skipped; a built-in name is never given to another plugin") in listing
    assert "impostor: module impostor from heron-impostor ?; hooks: heron_commands" in listing  # not broken
    result = invoke("train", "--help")
    assert result.exit_code == 0 and "hijacked" not in result.stdout and "--backend" in result.stdout
    assert invoke("hello").stdout == "hello from the impostor\n"  # its other command works
    assert "hello" in invoke("--help").stdout


def test_a_command_name_two_plugins_add_is_used_by_neither_and_running_it_says_why(manager):
    manager.register_plugin(plugin("impostor", heron_commands=impostor_commands), "impostor", "heron-impostor")
    manager.register_plugin(plugin("other", heron_commands=other_hello), "other", "heron-other")
    result = invoke("hello")
    assert result.exit_code == 2
    assert ("Error: command 'hello' is not available: command 'hello' is offered by plugin 'other' (heron-other): "
            "skipped and plugin 'impostor' (heron-impostor): skipped; none is used") in result.stderr


def test_a_plugin_whose_command_hook_raises_is_broken_and_the_others_still_add_theirs(manager):
    def explode(cli):
        raise SystemExit("bye")

    manager.register_plugin(plugin("exploding", heron_commands=explode), "exploding")
    manager.register_plugin(plugin("other", heron_commands=other_hello), "other")
    assert invoke("hello").stdout == "hello from the other\n"
    expected = "hook heron_commands raised SystemExit('bye') (the plugin called sys.exit)"
    assert manager.records["exploding"].error == expected


# --------------------------------------------------------------------- listings
def test_backends_lists_a_skipped_backend_and_the_one_kept(manager):
    def spec(name, description):
        return BackendSpec(name, ("ippo",), lambda s: None, lambda p: {}, description)

    manager.register_plugin(plugin("manual", heron_backends=lambda: [spec("manual", "real")]), "manual",
                            "heron-backend-manual")
    manager.register_plugin(plugin("evil", heron_backends=lambda: [spec("manual", "fake")]), "evil", "heron-evil")
    lines = CliRunner(env={"COLUMNS": "400"}).invoke(heron_cli, ["backends"]).stdout.splitlines()
    kept = next(line for line in lines if "│ heron-backend-manual" in line)
    skipped = next(line for line in lines if "│ heron-evil" in line)
    assert "ok; also offered by plugin 'evil' (heron-evil), skipped" in kept
    assert "skipped: backend 'manual' is offered by" in skipped and "broken" not in "".join(lines)


def test_envs_lists_providers_arguments_and_clashes(manager):
    fake = EnvSpec("thermostat", dict, "a fake thermostat")
    manager.register_plugin(plugin("evil", heron_envs=lambda: [fake]), "evil", "heron-evil")
    output = CliRunner(env={"COLUMNS": "300"}).invoke(heron_cli, ["envs", "-v"]).stdout
    assert "│ plugin 'core' (heron-core, built in) │" in output and "a fake thermostat" not in output
    assert "  num_rooms=2  number of rooms (field agents)." in output.splitlines()
    assert "  max_steps=50  episode length." in output.splitlines()
    assert ("environment 'thermostat' is offered by plugin 'core' (heron-core, built in): kept and plugin 'evil' "
            "(heron-evil): skipped; a built-in name is never given to another plugin") in output


def test_unknown_backend_on_the_command_line_suggests_and_hints(manager):
    result = invoke("train", "--backend", "manul")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: unknown backend 'manul' (did you mean 'manual'?); installed backends: none"
    ]
    result = invoke("train", "--backend", "rllib")
    assert result.stderr.splitlines() == [
        "Error: backend 'rllib' is not installed; backend 'rllib' is provided by heron-backend-rllib, which is not on "
        "PyPI yet: install it from a HERON checkout with pip install ./heron_backend_rllib (installed backends: none)"
    ]


# ------------------------------------------------------------- real processes
SUBPROCESS_PLUGINS = {
    "heron_test_exits": "import sys\nsys.exit(1)\n",
    "heron_test_commands": (
        "import click\nfrom heron.training.hookspecs import hookimpl\n\n\n"
        "@hookimpl\ndef heron_commands(cli):\n"
        "    @cli.command('explode')\n    def explode():\n        raise RuntimeError('the plugin broke')\n"
    ),
}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    install_distribution(root, "heron-test-subprocess", SUBPROCESS_PLUGINS)
    return root


def test_a_raising_plugin_command_in_a_real_process_is_one_line_without_traceback(site):
    result = run_heron("explode", pythonpath=site, HERON_LOAD_PLUGINS="heron_test_exits,heron_test_commands")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"Error: RuntimeError: the plugin broke {HINT}"]
    debug = run_heron("explode", pythonpath=site, HERON_LOAD_PLUGINS="heron_test_commands", HERON_DEBUG="1")
    assert debug.returncode == 1 and "Traceback (most recent call last)" in debug.stderr


def test_a_plugin_exiting_at_import_is_listed_broken_and_heron_keeps_working(site):
    result = run_heron("backends", "-v", pythonpath=site, HERON_LOAD_PLUGINS="heron_test_exits")
    assert result.returncode == 0 and result.stderr == ""
    line = next(line for line in result.stdout.splitlines() if line.strip().startswith("heron_test_exits:"))
    assert "error: import failed: SystemExit(1) (the plugin called sys.exit)" in line
    assert run_heron("envs", pythonpath=site, HERON_LOAD_PLUGINS="heron_test_exits").returncode == 0


def test_a_misspelt_backend_in_a_real_process_is_one_line():
    result = run_heron("train", "--backend", "rlib", HERON_LOAD_PLUGINS="")
    assert result.returncode == 1
    expected = "Error: unknown backend 'rlib' (did you mean 'rllib'?); installed backends: none"
    assert result.stderr.splitlines() == [expected]
