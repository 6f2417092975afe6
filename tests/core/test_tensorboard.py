"""TensorBoard event files of a run, read back with tensorboard's own reader."""

from __future__ import annotations

import csv
import subprocess
import sys

import pytest
from click.testing import CliRunner
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from heron.cli.main import cli
from heron.core.errors import BackendError, ConfigError
from heron.demo_envs.thermostat import ProportionalController
from heron.runs.tensorboard import TensorBoardLog
from heron.training import BackendSpec, EpisodeRecord, TrainingResult, hookimpl
from heron.training.plugins import get_plugin_manager

AGENTS = ("room_a", "room_b")  # the two-room thermostat's


def toy_record(episode: int, offset: float = 0.0) -> EpisodeRecord:
    """Values exact in float32 and in metrics.csv's six decimals, so both files must agree exactly."""
    returns = {"room_a": -2.5 * episode - offset, "room_b": -0.75 * episode}
    return EpisodeRecord(episode, sum(returns.values()), returns, 50 * episode,
                         {"toy/loss": 0.5**episode, "noise": 0.25})


class ToyTrainer:
    """Reports made-up episodes with training figures; an update every two episodes."""

    def __init__(self, spec):
        self.spec = spec

    def train(self, progress=None, *, on_update=None):
        episodes = [toy_record(n) for n in range(1, self.spec.stop.episodes + 1)]
        for record in episodes:
            progress(record)
            if record.episode % 2 == 0:
                on_update()
        return TrainingResult("toy", self.spec.algorithm, episodes, 0.0, episodes[-1].env_steps)

    def policies(self):
        return dict.fromkeys(AGENTS, ProportionalController())

    def save(self, path):
        path.mkdir()
        (path / "toy.json").write_text("{}")
        return path


class ToyPlugin:
    @hookimpl
    def heron_backends(self):
        return [BackendSpec("toy", ("ippo",), ToyTrainer, lambda path: ToyTrainer(None).policies(), "test")]


def scalars(directory) -> dict[str, list[tuple[int, float]]]:
    accumulator = EventAccumulator(str(directory))
    accumulator.Reload()
    return {tag: [(event.step, event.value) for event in accumulator.Scalars(tag)]
            for tag in accumulator.Tags()["scalars"]}


def test_heron_train_writes_every_episode_s_scalars_equal_to_metrics_csv(tmp_path):
    get_plugin_manager().register_plugin(ToyPlugin(), "toy")
    result = CliRunner().invoke(cli, ["train", "--backend", "toy", "--algo", "ippo", "--episodes", "6", "--out",
                                      str(tmp_path)])
    assert result.exit_code == 0, result.output
    (run_dir,) = tmp_path.iterdir()
    logged = scalars(run_dir / "tensorboard" / "ippo")
    assert sorted(logged) == ["episode/env_steps_per_s", "episode/length", "return/room_a", "return/room_b",
                              "return/team", "train/noise", "train/toy/loss"]
    with open(run_dir / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    steps = list(range(1, 7))
    assert logged["return/team"] == [(int(row["episode"]), float(row["team_return"])) for row in rows]
    for agent in AGENTS:
        assert logged[f"return/{agent}"] == [(int(row["episode"]), float(row[agent])) for row in rows]
    assert logged["episode/length"] == [(step, 50.0) for step in steps]
    assert logged["train/toy/loss"] == [(step, 0.5**step) for step in steps]
    assert [step for step, value in logged["episode/env_steps_per_s"] if value > 0] == steps


def test_a_resumed_session_hides_the_events_after_its_checkpoint(tmp_path):
    with TensorBoardLog(tmp_path, "mappo") as board:  # trained 1-5, checkpointed after 3, then killed
        for episode in range(1, 6):
            board.write(toy_record(episode))
    with TensorBoardLog(tmp_path, "mappo", purge_from=4, env_steps=150) as board:  # the resumed session
        for episode in range(4, 7):
            board.write(toy_record(episode, offset=100.0))
    logged = scalars(tmp_path / "tensorboard" / "mappo")
    assert [step for step, _ in logged["return/team"]] == [1, 2, 3, 4, 5, 6]
    assert [value for _, value in logged["return/room_a"]] == [-2.5, -5.0, -7.5, -110.0, -112.5, -115.0]
    assert logged["episode/length"] == [(step, 50.0) for step in range(1, 7)]
    assert len(list((tmp_path / "tensorboard" / "mappo").iterdir())) == 2  # one event file per session


def test_bad_metrics_and_folders_are_errors(tmp_path):
    with TensorBoardLog(tmp_path, "ippo") as board:
        for value in ("high", float("nan"), True):
            record = EpisodeRecord(1, 0.0, {}, 50, {"loss": value})
            with pytest.raises(BackendError, match=r"ippo episode 1: metrics\['loss'\] must be a finite number, got"):
                board.write(record)
    with pytest.raises(ConfigError, match="algorithm name must be a plain name"):
        TensorBoardLog(tmp_path, "../elsewhere")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "tensorboard").symlink_to(tmp_path / "outside", target_is_directory=True)
    with pytest.raises(ConfigError, match="which is outside"):
        TensorBoardLog(tmp_path / "run", "ippo")


def test_writing_events_does_not_import_torch(tmp_path):
    code = ("import sys\nfrom heron.runs.tensorboard import TensorBoardLog\n"
            "TensorBoardLog(sys.argv[1], 'ippo').close()\nassert 'torch' not in sys.modules, 'torch was imported'\n")
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True)
