"""Robustness sweeps (return versus delay) and ``heron evaluate --event-driven``."""

from __future__ import annotations

import csv
import json
import types

import numpy as np
import pytest
from click.testing import CliRunner

from heron.cli.main import cli
from heron.core import ConfigError
from heron.demo_envs.thermostat import ProportionalController, thermostat_config
from heron.envs import build_env
from heron.evaluation import SweepResult, plot_sweep, robustness_sweep, write_sweep_csv
from heron.evaluation.episodes import evaluate_policies
from heron.runs.checkpoints import CheckpointSlot
from heron.training import BackendSpec, make_env
from heron.training.hookspecs import hookimpl
from heron.training.plugins import get_plugin_manager

from .event_driven_fixtures import BuildingController


def controllers(env):
    return {aid: ProportionalController() for aid in env.possible_agents}


def test_sweep_reports_return_versus_delay_against_the_synchronous_reference():
    env = make_env("thermostat", max_steps=40)
    result = robustness_sweep(env, controllers(env), "obs_delay", [0, 1, 2], episodes=3, seed=10)
    assert result.values == [0.0, 1.0, 2.0] and result.t_end == 40.0
    assert [len(returns) for returns in result.returns] == [3, 3, 3]
    sync = evaluate_policies(env, controllers(env), 3, 10)
    assert result.sync_returns == pytest.approx(sync)
    assert result.returns[0] == pytest.approx(sync, rel=1e-12)  # zero delay reproduces training timing
    means = result.means
    assert means[0] > means[1] + 1.0 > means[2] + 2.0
    rows = result.rows()
    assert rows[0]["change"] == pytest.approx(0.0, abs=1e-9)
    assert rows[2]["change"] == pytest.approx(means[2] - np.mean(sync))
    table = result.to_markdown()
    assert table.splitlines()[0].startswith("| obs_delay | mean team return")
    assert "| sync |" in table and f"| 2 | {means[2]:.2f} |" in table


def test_sweep_keeps_each_agents_schedule_and_applies_overrides():
    env = build_env(thermostat_config(max_steps=30, coordinator_protocol="vertical"))
    policies = {"building": BuildingController(2)}
    result = robustness_sweep(env, policies, "msg_delay", [0.0, 2.0], episodes=2,
                              overrides={"jitter_type": "uniform", "jitter_ratio": 0.2})
    assert result.means[1] < result.means[0]
    # the building keeps its level default (tick 2), so even zero delay differs from acting every step
    assert result.means[0] != pytest.approx(result.sync_mean)


def test_sweep_without_a_training_episode_horizon_has_no_synchronous_reference():
    env = make_env("thermostat", max_steps=40)
    result = robustness_sweep(env, controllers(env), "act_delay", [0.0], episodes=1, t_end=25.0)
    assert result.sync_returns is None and result.t_end == 25.0
    assert np.isnan(result.rows()[0]["change"]) and "n/a" in result.to_markdown()


def test_sweep_arguments_are_checked():
    env = make_env("thermostat")
    policies = controllers(env)
    with pytest.raises(ConfigError, match="cannot sweep 'seed'"):
        robustness_sweep(env, policies, "seed", [1, 2])
    with pytest.raises(ConfigError, match="no values"):
        robustness_sweep(env, policies, "obs_delay", [])
    with pytest.raises(ConfigError, match="both swept and fixed"):
        robustness_sweep(env, policies, "obs_delay", [0.0], overrides={"obs_delay": 1.0})
    with pytest.raises(ConfigError, match="episodes must be a positive integer"):
        robustness_sweep(env, policies, "obs_delay", [0.0], episodes=0)
    with pytest.raises(ConfigError, match="obs_delay must be a non-negative number"):
        robustness_sweep(env, policies, "obs_delay", [-1.0], episodes=1)
    with pytest.raises(ConfigError, match=r"^t_end must be a positive number, got 'long'$"):
        robustness_sweep(env, policies, "obs_delay", [0.0], episodes=1, t_end="long")
    with pytest.raises(ConfigError, match=r"^sim_interval must be a positive number, got '1'$"):
        robustness_sweep(env, policies, "obs_delay", [0.0], episodes=1, sim_interval="1")


def test_evaluation_episodes_must_be_a_positive_integer():
    env = make_env("thermostat")
    for bad in ("3", 0, 2.5):
        with pytest.raises(ConfigError, match=f"^episodes must be a positive integer, got {bad!r}$"):
            evaluate_policies(env, controllers(env), episodes=bad)


def test_sweep_plot_and_csv(tmp_path):
    results = {
        "ippo": SweepResult("obs_delay", [0.0, 1.0], [[-10.0, -12.0], [-20.0, -22.0]], [-10.0, -12.0], 50.0),
        "mappo": SweepResult("obs_delay", [0.0, 1.0], [[-9.0], [-15.0]], None, 50.0),
    }
    png = plot_sweep(tmp_path / "sweep.png", results)
    assert png.read_bytes()[:4] == b"\x89PNG"
    rows = list(csv.DictReader(open(write_sweep_csv(tmp_path / "sweep.csv", results))))
    assert len(rows) == 2 + 4 + 2
    assert rows[0] == {"label": "ippo", "parameter": "obs_delay", "value": "sync", "episode": "0",
                       "team_return": "-10.000000"}
    with pytest.raises(ConfigError, match="different parameters"):
        plot_sweep(tmp_path / "x.png", {**results, "other": SweepResult("act_delay", [0.0], [[1.0]], None, 1.0)})


# ------------------------------------------------------------------ CLI
@pytest.fixture
def run_dir(tmp_path, monkeypatch):
    """A run folder of a toy backend whose saved policies are proportional controllers."""
    monkeypatch.setenv("HERON_LOAD_PLUGINS", "")
    plugin = types.ModuleType("toy_plugin")

    def load_policies(path):
        agents = json.loads((path / "agents.json").read_text())
        return {aid: ProportionalController() for aid in agents}

    plugin.heron_backends = hookimpl(
        lambda: [BackendSpec("toy", ("ippo",), make_trainer=lambda spec: None, load_policies=load_policies)]
    )
    get_plugin_manager().register_plugin(plugin, "toy")
    (tmp_path / "run").mkdir()

    def write(checkpoint):
        checkpoint.mkdir()
        (checkpoint / "agents.json").write_text(json.dumps(["room_a", "room_b"]))

    CheckpointSlot(tmp_path / "run", "ippo").save(write)
    experiment = {"algorithm": "ippo", "env": "thermostat", "env_kwargs": {"max_steps": 30}}
    (tmp_path / "run" / "config.json").write_text(json.dumps({"backend": "toy", "experiments": [experiment]}))
    return tmp_path / "run"


def test_cli_sweep_prints_the_table_and_writes_png_and_csv(run_dir):
    result = CliRunner().invoke(
        cli, ["evaluate", str(run_dir), "--event-driven", "--obs-delay", "0,1,2", "--episodes", "2", "--seed", "3"],
        terminal_width=200,
    )
    assert result.exit_code == 0, result.output
    assert "team return vs obs_delay" in result.output
    assert (run_dir / "event_driven_obs_delay.png").read_bytes()[:4] == b"\x89PNG"
    rows = list(csv.DictReader(open(run_dir / "event_driven_obs_delay.csv")))
    by_value = {}
    for row in rows:
        by_value.setdefault(row["value"], []).append(float(row["team_return"]))
    assert set(by_value) == {"sync", "0.0", "1.0", "2.0"}
    assert by_value["0.0"] == pytest.approx(by_value["sync"], rel=1e-6)
    assert np.mean(by_value["2.0"]) < np.mean(by_value["1.0"]) < np.mean(by_value["0.0"])
    for value in ("0.0", "1.0", "2.0"):
        assert f"{np.mean(by_value[value]):.2f}" in result.output


def test_cli_event_driven_without_sweep_compares_with_synchronous(run_dir):
    result = CliRunner().invoke(cli, ["evaluate", str(run_dir), "--event-driven", "--act-delay", "1",
                                      "--episodes", "2"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "event-driven" in result.output and "sync" in result.output
    assert not list(run_dir.glob("event_driven_*"))


def test_cli_rejects_unclear_timing_options(run_dir):
    runner = CliRunner()
    both = runner.invoke(cli, ["evaluate", str(run_dir), "--event-driven", "--obs-delay", "0,1", "--act-delay", "0,1"])
    assert both.exit_code != 0 and "sweep one timing parameter at a time" in both.output
    no_flag = runner.invoke(cli, ["evaluate", str(run_dir), "--obs-delay", "1"])
    assert no_flag.exit_code != 0 and "need --event-driven" in no_flag.output
    words = runner.invoke(cli, ["evaluate", str(run_dir), "--event-driven", "--obs-delay", "0,slow"])
    assert words.exit_code != 0 and "comma-separated numbers" in words.output
    negative = runner.invoke(cli, ["evaluate", str(run_dir), "--event-driven", "--obs-delay", "-1", "--episodes", "1"])
    assert negative.exit_code != 0 and "obs_delay must be a non-negative number" in negative.output
