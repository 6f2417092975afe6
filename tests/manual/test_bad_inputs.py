"""Bad specs, hyper-parameters and command lines: precise exceptions from Python, one line from ``heron``."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import types

import pytest
from click.testing import CliRunner

from heron.backends.manual import ManualConfig, ManualTrainer
from heron.cli.main import cli
from heron.core import BackendError, ConfigError
from heron.demo_envs.thermostat import Thermostat
from heron.training import BackendSpec, ExperimentSpec, make_trainer
from heron.training.hookspecs import hookimpl
from heron.training.plugins import get_plugin_manager

from .manual_fixtures import variant_config


def test_unknown_hyperparams_list_the_known_ones():
    with pytest.raises(ConfigError) as info:
        ManualTrainer(ExperimentSpec(hyperparams={"learning_rate": 0.1, "lr": 0.1}))
    message = str(info.value)
    assert "unknown hyperparams ['learning_rate']" in message
    for known in ("num_envs", "hidden_sizes", "lr", "gamma", "noise_start", "centralized_critic"):
        assert f"'{known}'" in message


@pytest.mark.parametrize(
    ("hyperparams", "message"),
    [
        ({"lr": 0}, "hyperparams.lr must be a positive number, got 0"),
        ({"gamma": 1.5}, r"hyperparams.gamma must be a number in \[0, 1\], got 1.5"),
        ({"num_envs": 0}, "hyperparams.num_envs must be a positive integer, got 0"),
        ({"num_envs": 2.5}, "hyperparams.num_envs must be a positive integer, got 2.5"),
        ({"num_envs": True}, "hyperparams.num_envs must be a positive integer, got True"),
        ({"lr": float("inf")}, "hyperparams.lr must be a positive number, got inf"),
        ({"gamma": float("nan")}, r"hyperparams.gamma must be a number in \[0, 1\], got nan"),
        ({"critic_lr": "0.01"}, "hyperparams.critic_lr must be a positive number, got '0.01'"),
        ({"hidden_sizes": "32"}, "hidden_sizes must be a list of positive integers, got '32'"),
        ({"hidden_sizes": [32, 0]}, "hidden_sizes entry must be a positive integer, got 0"),
        ({"activation": "gelu"}, "activation 'gelu' is unknown; expected one of"),
        ({"normalize_obs": "yes"}, "normalize_obs must be true or false, got 'yes'"),
        ({"centralized_critic": 1}, "centralized_critic must be true, false or null, got 1"),
    ],
)
def test_bad_hyperparam_values(hyperparams, message):
    with pytest.raises(ConfigError, match=message):
        ManualConfig.from_hyperparams(hyperparams, "mappo")


@pytest.mark.parametrize("key", ["centralized_critic", "agent_id_input"])
def test_mappo_only_settings_are_rejected_for_ippo(key):
    with pytest.raises(ConfigError, match=f"{key} applies to mappo only"):
        ManualConfig.from_hyperparams({key: True}, "ippo")


def test_centralized_critic_defaults_by_algorithm():
    assert ManualConfig.from_hyperparams({}, "mappo").centralized_critic is True
    assert ManualConfig.from_hyperparams({}, "ippo").centralized_critic is False
    assert ManualConfig.from_hyperparams({"centralized_critic": False}, "mappo").centralized_critic is False


def test_unknown_algorithm_env_backend_and_negative_episodes():
    with pytest.raises(ConfigError, match=r"unknown algorithm 'ppo' \(did you mean 'ippo' or 'mappo'\?\); expected "
                                          r"one of \['ippo', 'mappo'\]"):
        ExperimentSpec(algorithm="ppo")
    with pytest.raises(ConfigError, match=r"stop.episodes must be a positive integer, got -3"):
        ExperimentSpec(stop={"episodes": -3})
    with pytest.raises(ConfigError, match="unknown environment 'nope'"):
        make_trainer(ExperimentSpec(env="nope"), "manual")
    with pytest.raises(BackendError, match="nope"):
        make_trainer(ExperimentSpec(), "nope")


def test_mappo_needs_the_same_spaces_for_agents_sharing_a_policy():
    config = variant_config(Thermostat, modes=["local", "full"])
    with pytest.raises(ConfigError) as info:
        ManualTrainer(ExperimentSpec(env=config, algorithm="mappo"))
    assert str(info.value).startswith("mappo shares one policy among the Thermostat agents, but their spaces differ")
    assert "room_a observes 1 value(s) in mode 'local' and acts with dim_c=1" in str(info.value)
    assert "room_b observes 3 value(s) in mode 'full'" in str(info.value)
    ManualTrainer(ExperimentSpec(env=config, algorithm="ippo"))  # separate policies: fine


# ------------------------------------------------------------------ command line
def heron(*args: str, cwd) -> subprocess.CompletedProcess:
    """``heron ARGS`` in a fresh interpreter, as the console script runs it."""
    env = {**os.environ, "PYTHONHASHSEED": "0", "COLUMNS": "250"}
    env.pop("HERON_DEBUG", None)
    command = [sys.executable, "-c", "from heron.cli import run; run()", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--out", "/proc/x", "--episodes", "2"], "Error: /proc/x"),
        (["--out", "/dev/null/runs", "--episodes", "2"], "Error: /dev/null/runs"),
        (["--env-arg", "num_rooms=0"], "Error: thermostat num_rooms must be a positive integer, got 0"),
        (["--env-arg", "num_room=3"], "Error: environment 'thermostat' has no argument 'num_room' (did you mean "
                                      "'num_rooms'?); its arguments are: num_rooms=2, max_steps=50"),
        (["--set", "lr=fast"], "Error: hyperparams.lr must be a positive number, got 'fast'"),
        (["--backend", "manul"], "Error: unknown backend 'manul' (did you mean 'manual'?); installed backends: "),
        (["--env", "thermostt"], "Error: unknown environment 'thermostt' (did you mean 'thermostat'?); known "),
    ],
    ids=["/proc", "under a file", "num_rooms=0", "misspelt env arg", "lr=fast", "misspelt backend", "misspelt env"],
)
def test_bad_train_input_in_a_real_process_is_one_line_without_traceback_or_run_folder(tmp_path, args, line):
    result = heron("train", "--out", str(tmp_path / "runs"), *args, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    (printed,) = result.stderr.splitlines()
    assert printed.startswith(line) and "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists()


def test_a_full_disk_while_training_is_one_line(tmp_path, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    result = CliRunner().invoke(cli, ["train", "--algo", "ippo", "--episodes", "4", "--out", str(tmp_path)])
    assert result.exit_code == 1
    (printed,) = result.stderr.splitlines()
    assert printed.startswith(f"Error: {tmp_path}") and printed.endswith(": No space left on device")


def manual_impostor() -> types.ModuleType:
    module = types.ModuleType("impostor")

    def heron_backends():
        return [BackendSpec("manual", ("ippo",), lambda spec: None, lambda path: {}, "not the real one")]

    module.heron_backends = hookimpl(heron_backends)
    return module


def test_a_third_party_backend_named_manual_never_replaces_the_real_one(monkeypatch):
    monkeypatch.delenv("HERON_LOAD_PLUGINS", raising=False)
    manager = get_plugin_manager()
    manager.register_plugin(manual_impostor(), "impostor", "heron-impostor")  # called before the real one
    assert isinstance(make_trainer(ExperimentSpec(stop={"episodes": 1}), "manual"), ManualTrainer)
    assert manager.records["manual"].ok and manager.records["impostor"].ok
    (clash,) = manager.name_clashes("backend")
    assert clash.kept is manager.records["manual"] and clash.kept.distribution == "heron-backend-manual"
