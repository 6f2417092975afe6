"""A throw-away backend in its own distribution, installed with pip, shows up and can be selected.

This proves entry points work from a separate distribution, not only from
this repository. The distribution also declares two broken plugins (one that
does not import, one whose hook name is misspelt), which must be listed with
their errors while the working one keeps working.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from heron.training import ExperimentSpec, make_trainer

PLUGIN = '''
from __future__ import annotations

import json
import os
from pathlib import Path

import click

from heron.training import BackendSpec, EpisodeRecord, TrainingResult
from heron.evaluation.episodes import run_episode
from heron.training.hookspecs import hookimpl
from heron.envs import build_env
from heron.demo_envs.thermostat import ProportionalController


class FixedGainTrainer:
    """Plays the proportional controller; "training" records its episodes."""

    def __init__(self, spec):
        self.spec = spec
        self.env = build_env(spec.env_config())

    def policies(self):
        return {aid: ProportionalController() for aid in self.env.possible_agents}

    def train(self, progress=None):
        stop, episodes, steps = self.spec.stop, [], 0
        while not ((stop.episodes and len(episodes) >= stop.episodes) or (stop.env_steps and steps >= stop.env_steps)):
            returns = run_episode(self.env, self.policies(), seed=self.spec.seed + len(episodes))
            steps += self.env.step_count
            record = EpisodeRecord(len(episodes) + 1, sum(returns.values()), returns, steps)
            episodes.append(record)
            if progress:
                progress(record)
        return TrainingResult("toy", self.spec.algorithm, episodes, 0.0, steps)

    def save(self, path):
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / "toy.json").write_text(json.dumps({"agents": self.env.possible_agents}))
        return path


def load_policies(path):
    agents = json.loads((Path(path) / "toy.json").read_text())["agents"]
    return {aid: ProportionalController() for aid in agents}


@hookimpl
def heron_backends():
    return [BackendSpec("toy", ("ippo", "mappo"), FixedGainTrainer, load_policies, "test backend")]


@hookimpl
def heron_commands(cli):
    @cli.command("toy-hello")
    def hello():
        click.echo("hello from toy")

    @cli.command("toy-hash")
    def string_hash():
        click.echo(f"{os.environ.get('PYTHONHASHSEED')} {hash('room_a')}")
'''

TYPO_PLUGIN = '''
from heron.training.hookspecs import hookimpl


@hookimpl
def heron_backend():
    return []
'''

PYPROJECT = """
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "heron-backend-toy"
version = "0.0.1"
dependencies = []

[project.entry-points.heron]
toy = "heron_toy_backend.plugin"
toy_broken = "heron_toy_backend.does_not_exist"
toy_typo = "heron_toy_backend.typo"

[tool.hatch.build.targets.wheel]
packages = ["heron_toy_backend"]
"""


@pytest.fixture(scope="module")
def toy_distribution(tmp_path_factory):
    root = tmp_path_factory.mktemp("heron-backend-toy")
    (root / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    package = root / "heron_toy_backend"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "plugin.py").write_text(PLUGIN)
    (package / "typo.py").write_text(TYPO_PLUGIN)
    pip = [sys.executable, "-m", "pip"]
    subprocess.run([*pip, "install", "-q", "--no-deps", "--no-build-isolation", str(root)], check=True)
    try:
        yield root
    finally:
        subprocess.run([*pip, "uninstall", "-q", "-y", "heron-backend-toy"], check=True)


def heron(*args: str, cwd: Path | None = None, hash_seed: str | None = None) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("heron")
    env = {**os.environ, "COLUMNS": "250"}  # a wide console: rich does not wrap the table cells
    env.pop("PYTHONHASHSEED", None)
    if hash_seed is not None:
        env["PYTHONHASHSEED"] = hash_seed
    return subprocess.run([str(script), *args], capture_output=True, text=True, cwd=cwd, env=env)


def test_backends_lists_the_installed_and_the_broken_plugin(toy_distribution):
    result = heron("backends")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    toy_row = next(line for line in lines if "│ toy " in line)
    assert "heron-backend-toy" in toy_row and "0.0.1" in toy_row and "ippo, mappo" in toy_row and "ok" in toy_row
    assert "toy_broken" in result.stdout and "broken" in result.stdout
    assert "does_not_exist" in result.stdout


def test_verbose_backends_shows_modules_hooks_and_validation_errors(toy_distribution):
    result = heron("backends", "--verbose")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    toy = next(line for line in lines if line.strip().startswith("toy:"))
    assert "module heron_toy_backend.plugin from heron-backend-toy 0.0.1" in toy
    assert "hooks: heron_backends, heron_commands" in toy
    typo = next(line for line in lines if line.strip().startswith("toy_typo:"))
    assert "error:" in typo and "unknown hook(s) ['heron_backend']" in typo
    core = next(line for line in lines if line.strip().startswith("core:"))
    assert "module heron.demo_envs.plugin from heron-core" in core and "hooks: heron_envs" in core


def test_plugin_command_is_added_to_the_cli(toy_distribution):
    result = heron("toy-hello")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "hello from toy"


def test_the_script_fixes_the_string_hash_seed_unless_the_user_set_one(toy_distribution):
    first, second = heron("toy-hash"), heron("toy-hash")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout and first.stdout.startswith("0 ")
    assert heron("toy-hash", hash_seed="7").stdout.startswith("7 ")


def test_backend_is_selectable_by_name(toy_distribution):
    trainer = make_trainer(ExperimentSpec(algorithm="mappo", stop={"episodes": 2}, seed=3), backend="toy")
    result = trainer.train()
    assert result.backend == "toy" and len(result.episodes) == 2
    assert result.returns[0] < 0


def test_backend_stops_after_the_episode_that_reaches_env_steps(toy_distribution):
    result = make_trainer(ExperimentSpec(algorithm="ippo", stop={"env_steps": 120}), backend="toy").train()
    assert result.env_steps == 150 and [record.env_steps for record in result.episodes] == [50, 100, 150]


def test_heron_train_and_evaluate_run_with_the_selected_backend(toy_distribution, tmp_path):
    result = heron("train", "--backend", "toy", "--episodes", "3", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    (run_dir,) = tmp_path.iterdir()
    assert {p.name for p in run_dir.iterdir()} >= {"metrics.csv", "learning_curve.png", "config.json", "checkpoints"}
    assert len((run_dir / "metrics.csv").read_text().splitlines()) == 1 + 2 * 3
    assert "(toy)" in result.stdout and " ippo │" in result.stdout and " mappo │" in result.stdout
    evaluation = heron("evaluate", str(run_dir), "--episodes", "2")
    assert evaluation.returncode == 0, evaluation.stderr
    assert "mean team return" in evaluation.stdout
