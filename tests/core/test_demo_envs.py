"""What every built-in environment offers: listed arguments and defaults, a reference controller for every acting
agent, event-driven runs equal to synchronous steps under unit ticks."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from heron.cli.main import cli
from heron.evaluation.episodes import evaluate_policies
from heron.scheduling import ScheduleConfig, evaluate_event_driven
from heron.training import env_specs, make_env

DEMO_ENVS = ["thermostat", "microgrid", "sensor_network"]


def references(name, env):
    return {aid: env_specs()[name].reference() for aid in env.possible_agents}


def test_heron_envs_lists_the_three_demo_envs():
    output = CliRunner().invoke(cli, ["envs"]).stdout
    assert all(name in output for name in DEMO_ENVS)


@pytest.mark.parametrize("name", DEMO_ENVS)
def test_every_argument_has_a_default_and_is_listed_by_heron_envs(name):
    arguments = env_specs()[name].arguments()
    assert all(not argument.required and argument.help for argument in arguments.values())
    lines = CliRunner(env={"COLUMNS": "300"}).invoke(cli, ["envs", "-v"]).stdout.splitlines()
    assert f"{name} arguments:" in lines
    assert all(any(line.startswith(f"  {argument}  ") for line in lines) for argument in arguments.values())




@pytest.mark.parametrize("name", DEMO_ENVS)
def test_event_driven_runs_match_synchronous_steps_with_unit_ticks(name):
    env = make_env(name)
    policies = references(name, env)
    stats = evaluate_event_driven(env, policies, seed=3, schedule=ScheduleConfig())
    assert stats.team_return == pytest.approx(evaluate_policies(env, policies, 1, 3)[0], abs=1e-9)
