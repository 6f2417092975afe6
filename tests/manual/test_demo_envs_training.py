"""`heron train` on every demo environment with the manual backend's defaults: it runs end to end and beats the
reference controller."""

from __future__ import annotations

import os

import numpy as np
import pytest
from click.testing import CliRunner

from heron.cli.main import cli
from heron.evaluation.episodes import evaluate_policies
from heron.portable.checkpoint import load_policies
from heron.runs.checkpoints import CheckpointSlot
from heron.training import env_specs, make_env

EVALUATION = {"episodes": 20, "seed": 1000}  # the seeds heron train's reference line uses


def train(tmp_path, *args):
    result = CliRunner().invoke(cli, ["train", *args, "--out", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (run_dir,) = tmp_path.iterdir()
    return result.output, run_dir


def test_the_hierarchical_thermostat_trains_end_to_end(tmp_path):
    output, run_dir = train(tmp_path, "--env-arg", "coordinator_protocol=vertical", "--episodes", "40")
    assert " ippo │" in output and " mappo │" in output and "Reference controller: " in output
    assert (run_dir / "learning_curve.png").stat().st_size > 0
    env = make_env("thermostat", coordinator_protocol="vertical")
    assert env.possible_agents == ["building"]  # the reference fits the building's two-room action
    assert np.isfinite(evaluate_policies(env, {"building": env_specs()["thermostat"].reference()}, 2, 0)).all()


@pytest.fixture(scope="module", params=["microgrid", "sensor_network"])
def default_run(request, tmp_path_factory):
    """`heron train --env E` with every other setting at its default (both algorithms, 300 episodes each)."""
    tmp_path = tmp_path_factory.mktemp(request.param)
    output, run_dir = train(tmp_path, "--env", request.param)
    return request.param, output, run_dir


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", ["ippo", "mappo"])
def test_default_training_beats_the_reference_controller(default_run, algorithm):
    env_name, output, run_dir = default_run
    assert "Reference controller: " in output and (run_dir / "learning_curve.png").exists()
    env = make_env(env_name)
    reference = {aid: env_specs()[env_name].reference() for aid in env.possible_agents}
    baseline = np.mean(evaluate_policies(env, reference, EVALUATION["episodes"], EVALUATION["seed"]))
    learned = load_policies(CheckpointSlot(run_dir, algorithm).latest())
    score = np.mean(evaluate_policies(env, learned, EVALUATION["episodes"], EVALUATION["seed"]))
    assert score > baseline, f"{env_name} {algorithm}: {score:.2f} vs reference {baseline:.2f}"


@pytest.mark.slow
def test_evaluate_runs_the_trained_policies_event_driven(default_run):
    _, _, run_dir = default_run
    result = CliRunner().invoke(cli, ["evaluate", str(run_dir), "--event-driven", "--obs-delay", "0,1",
                                      "--episodes", "2"])
    assert result.exit_code == 0, result.output
    assert "ippo" in result.output and "mappo" in result.output and "obs_delay" in result.output
    assert (run_dir / "event_driven_obs_delay.png").exists() and (run_dir / "event_driven_obs_delay.csv").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--env", "microgrid", "--env-arg", "num_coordinators=0"],
         "microgrid num_coordinators must be a positive integer, got 0"),
        (["--env", "microgrid", "--env-arg", "battery_efficiency=2"],
         "microgrid battery_efficiency must be a number in (0, 1], got 2"),
        (["--env", "sensor_network", "--env-arg", "num_nodes=2"],
         "sensor_network num_nodes must be an integer >= 3, got 2"),
        (["--env", "sensor_network", "--env-arg", "radius=2"], "environment 'sensor_network' has no argument 'radius'"),
    ],
)
def test_bad_environment_arguments_are_one_line_errors(tmp_path, args, message):
    result = CliRunner().invoke(cli, ["train", *args, "--out", str(tmp_path / "runs")])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and message in result.output
    assert len(result.output.strip().splitlines()) == 1 and not os.path.exists(tmp_path / "runs")
