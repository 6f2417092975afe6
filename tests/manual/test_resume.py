"""`heron train --resume`: continuing interrupted or failed runs exactly, new budgets, refusals and bad input."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from heron.backends.manual.trainer import ManualTrainer
from heron.cli.main import cli
from heron.portable.checkpoint import load_policies
from heron.runs.checkpoints import CheckpointSlot
from heron.runs.metrics import MetricsLog
from heron.training import BackendSpec, EpisodeRecord, hookimpl
from heron.training.plugins import get_plugin_manager

IPPO = ["--algo", "ippo", "--env-arg", "num_rooms=2", "--episodes", "24", "--checkpoint-every", "8"]
BOTH = ["--algo", "all", "--env-arg", "num_rooms=2", "--episodes", "12", "--checkpoint-every", "4"]


# ----------------------------------------------------------------- helpers
def heron(*args: str):
    return CliRunner().invoke(cli, list(args))


def train_run(out: Path, args: list[str]):
    """``heron train ARGS --out OUT``: the result and the run folder it made."""
    result = heron("train", *args, "--out", str(out))
    (run_dir,) = out.iterdir()
    return result, run_dir


def metrics_rows(run_dir: Path) -> list[list[str]]:
    with open(run_dir / "metrics.csv", newline="") as handle:
        return list(csv.reader(handle))


def final_state(run_dir: Path, algorithm: str) -> dict[str, object]:
    """Everything the last checkpoint of ``algorithm`` holds: JSON files and every array, for bitwise comparison."""
    checkpoint = CheckpointSlot(run_dir, algorithm).latest()
    state: dict[str, object] = {}
    for file in sorted(checkpoint.iterdir()):
        if file.suffix == ".json":
            data = json.loads(file.read_text())
            state[file.name] = data.get("info", data) if file.name == "policy.json" else data
        else:
            with np.load(file, allow_pickle=False) as arrays:
                state.update({f"{file.name}/{key}": arrays[key] for key in arrays.files})
    return state


def assert_same_run(run_dir: Path, reference: Path, algorithms=("ippo",)) -> None:
    """Same metrics rows (returns to 6 decimals) and bitwise the same last checkpoints (weights, optimiser, history)."""
    assert metrics_rows(run_dir) == metrics_rows(reference)
    for algorithm in algorithms:
        ours, theirs = final_state(run_dir, algorithm), final_state(reference, algorithm)
        assert ours.keys() == theirs.keys()
        for key, value in theirs.items():
            if isinstance(value, np.ndarray):
                assert ours[key].dtype == value.dtype and ours[key].tobytes() == value.tobytes(), key
            else:
                assert ours[key] == value, key


def progress_of(run_dir: Path, algorithm: str) -> dict:
    return json.loads((CheckpointSlot(run_dir, algorithm).latest() / "heron_progress.json").read_text())


def fail_at_iteration(monkeypatch, number: int, error: BaseException) -> None:
    original, calls = ManualTrainer._iteration, []

    def failing(self):
        calls.append(1)
        if len(calls) == number:
            raise error
        return original(self)

    monkeypatch.setattr(ManualTrainer, "_iteration", failing)


def one_line_error(result) -> str:
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: ") and len(result.output.strip().splitlines()) == 1, result.output
    return result.output


def uninterrupted(tmp_path_factory, args: list[str]) -> Path:
    result, run_dir = train_run(tmp_path_factory.mktemp("reference"), args)
    assert result.exit_code == 0, result.output
    return run_dir


@pytest.fixture(scope="module")
def ippo_reference(tmp_path_factory):
    """An uninterrupted ippo run of 24 episodes (``IPPO``)."""
    return uninterrupted(tmp_path_factory, IPPO)


@pytest.fixture(scope="module")
def both_reference(tmp_path_factory):
    """An uninterrupted run of both algorithms, 12 episodes each (``BOTH``)."""
    return uninterrupted(tmp_path_factory, BOTH)


# ------------------------------------------------------------------ resume
def test_resume_after_a_failure_drops_what_followed_the_checkpoint_and_continues_bitwise(tmp_path, monkeypatch,
                                                                                         ippo_reference):
    fail_at_iteration(monkeypatch, 6, RuntimeError("the node went away"))
    result, run_dir = train_run(tmp_path, IPPO)
    assert result.exit_code == 1 and "RuntimeError: the node went away" in result.output
    assert len(metrics_rows(run_dir)) == 1 + 20 and progress_of(run_dir, "ippo")["episodes"] == 16
    with open(run_dir / "metrics.csv", "a") as handle:
        handle.write("manual,ippo,2")  # a row a kill cut short
    monkeypatch.undo()

    result = heron("train", "--resume", str(run_dir))
    assert result.exit_code == 0, result.output
    assert "ippo: continuing from episode 16" in result.output
    assert_same_run(run_dir, ippo_reference)
    assert progress_of(run_dir, "ippo") == progress_of(ippo_reference, "ippo")
    accumulator = EventAccumulator(str(run_dir / "tensorboard" / "ippo"))
    accumulator.Reload()  # episodes 17-20 were logged twice: TensorBoard shows the resumed session's only
    logged = [(event.step, event.value) for event in accumulator.Scalars("return/team")]
    rows = metrics_rows(run_dir)[1:]
    assert [step for step, _ in logged] == [int(row[2]) for row in rows] == list(range(1, 25))
    assert [value for _, value in logged] == pytest.approx([float(row[4]) for row in rows], rel=1e-6)
    assert {"train/room_a/policy_loss", "train/room_b/value_loss", "train/exploration_sigma"} <= set(
        accumulator.Tags()["scalars"])


def test_ctrl_c_then_resume_finishes_every_algorithm_as_an_uninterrupted_run(tmp_path, monkeypatch, both_reference):
    fail_at_iteration(monkeypatch, 3, KeyboardInterrupt())
    result, run_dir = train_run(tmp_path, BOTH)
    assert result.exit_code == 130
    assert not (run_dir / "checkpoints" / "mappo").exists()  # mappo never started
    monkeypatch.undo()

    result = heron("train", "--resume", str(run_dir))
    assert result.exit_code == 0, result.output
    assert "ippo: continuing from episode 8" in result.output
    assert "mappo: no checkpoint yet, training from scratch" in result.output
    assert_same_run(run_dir, both_reference, ("ippo", "mappo"))
    again = heron("train", "--resume", str(run_dir))
    assert again.exit_code == 0 and "ippo: finished (12 episodes), not trained again" in again.output
    assert "mappo: finished (12 episodes), not trained again" in again.output
    assert_same_run(run_dir, both_reference, ("ippo", "mappo"))


def test_a_run_that_failed_before_its_first_checkpoint_resumes_from_scratch(tmp_path, monkeypatch, ippo_reference):
    fail_at_iteration(monkeypatch, 2, RuntimeError("boom"))
    result, run_dir = train_run(tmp_path, IPPO)
    assert result.exit_code == 1 and len(metrics_rows(run_dir)) == 1 + 4
    assert not CheckpointSlot(run_dir, "ippo").path.exists()
    monkeypatch.undo()
    result = heron("train", "--resume", str(run_dir))
    assert result.exit_code == 0 and "ippo: no checkpoint yet, training from scratch" in result.output
    assert_same_run(run_dir, ippo_reference)


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt()])
def test_a_run_that_stops_before_its_first_episode_leaves_no_folder(tmp_path, monkeypatch, error):
    fail_at_iteration(monkeypatch, 1, error)
    result = heron("train", *IPPO, "--out", str(tmp_path / "runs"))
    assert list((tmp_path / "runs").iterdir()) == []
    if isinstance(error, KeyboardInterrupt):
        assert result.exit_code == 130 and "Interrupted before the first episode" in result.output
    else:
        assert result.exit_code == 1 and "RuntimeError: boom" in result.output


def test_resume_with_a_new_total_budget(tmp_path):
    args = ["--algo", "ippo", "--env-arg", "num_rooms=2", "--episodes", "12", "--checkpoint-every", "4"]
    _, run_dir = train_run(tmp_path, args)
    first = metrics_rows(run_dir)
    result = heron("train", "--resume", str(run_dir), "--episodes", "20")
    assert result.exit_code == 0 and "ippo: continuing from episode 12" in result.output
    rows = metrics_rows(run_dir)
    assert rows[:13] == first and [int(row[2]) for row in rows[1:]] == list(range(1, 21))
    config = json.loads((run_dir / "config.json").read_text())
    assert config["experiments"][0]["stop"]["episodes"] == 20
    assert progress_of(run_dir, "ippo")["episodes"] == 20 and progress_of(run_dir, "ippo")["finished"]

    latest = CheckpointSlot(run_dir, "ippo").latest()
    again = heron("train", "--resume", str(run_dir))
    assert again.exit_code == 0 and "ippo: finished (20 episodes), not trained again" in again.output
    assert metrics_rows(run_dir) == rows and CheckpointSlot(run_dir, "ippo").latest() == latest
    lower = one_line_error(heron("train", "--resume", str(run_dir), "--episodes", "8"))
    assert "--episodes 8 is below the 20 episodes ippo has trained already" in lower


# ---------------------------------------------------------------- refusals
def test_resume_refuses_options_that_would_change_the_spec(tmp_path):
    _, run_dir = train_run(tmp_path, ["--algo", "ippo", "--episodes", "4"])
    before = sorted(path.relative_to(run_dir) for path in run_dir.rglob("*"))
    output = one_line_error(heron("train", "--resume", str(run_dir), "--seed", "1", "--set", "lr=0.1", "--algo",
                                  "mappo", "--out", "elsewhere"))
    assert "--algo, --seed, --set, --out cannot be given with it" in output
    assert sorted(path.relative_to(run_dir) for path in run_dir.rglob("*")) == before


@pytest.mark.parametrize("finished", [False, True])
def test_resume_refuses_a_config_json_that_differs_from_the_checkpoint_naming_each_field(tmp_path, monkeypatch,
                                                                                         finished):
    if not finished:
        fail_at_iteration(monkeypatch, 3, KeyboardInterrupt())
    _, run_dir = train_run(tmp_path, ["--algo", "ippo", "--episodes", "12", "--checkpoint-every", "4"])
    monkeypatch.undo()
    config = json.loads((run_dir / "config.json").read_text())
    config["experiments"][0].update(seed=5, hyperparams={"lr": 0.5})
    (run_dir / "config.json").write_text(json.dumps(config))
    rows = metrics_rows(run_dir)
    output = one_line_error(heron("train", "--resume", str(run_dir)))
    checkpoint = CheckpointSlot(run_dir, "ippo").latest()
    assert f"checkpoint {checkpoint} was trained with another spec: seed: saved 0, now 5; hyperparams.lr: saved " \
           "<missing>, now 0.5" in output
    assert metrics_rows(run_dir) == rows  # nothing was touched


class _NoRestoreTrainer:
    """The manual trainer without ``restore`` and without ``on_update``."""

    def __init__(self, spec):
        self.spec, self._trainer = spec, ManualTrainer(spec)

    def train(self, progress=None):
        return self._trainer.train(progress)

    def policies(self):
        return self._trainer.policies()

    def save(self, path):
        return self._trainer.save(path)


class _NoRestorePlugin:
    @hookimpl
    def heron_backends(self):
        return [BackendSpec("norestore", ("ippo",), _NoRestoreTrainer, load_policies, "test backend")]


def test_a_backend_without_restore_is_checkpointed_at_the_end_and_cannot_resume(tmp_path, monkeypatch):
    get_plugin_manager().register_plugin(_NoRestorePlugin(), "norestore", "heron-test-norestore")
    args = ["--backend", "norestore", "--algo", "ippo"]
    finished, run_dir = train_run(tmp_path / "finished", [*args, "--episodes", "8"])
    assert finished.exit_code == 0, finished.output
    assert "backend 'norestore' (heron-test-norestore ?)" in finished.output
    assert "The 'norestore' trainer takes no on_update callback: ippo is checkpointed only at the end of training." \
        in " ".join(finished.output.split())
    assert CheckpointSlot(run_dir, "ippo").latest().name == "v000001"
    again = heron("train", "--resume", str(run_dir))  # nothing to restore
    assert again.exit_code == 0 and "ippo: finished (8 episodes), not trained again" in again.output

    fail_at_iteration(monkeypatch, 2, KeyboardInterrupt())
    interrupted, run_dir = train_run(tmp_path / "stopped", args)
    assert interrupted.exit_code == 130 and progress_of(run_dir, "ippo")["episodes"] == 4
    output = one_line_error(heron("train", "--resume", str(run_dir)))
    assert "backend 'norestore' cannot resume runs: its trainer _NoRestoreTrainer has no restore(path, *, " \
           "allow_stop_change) method" in output


# --------------------------------------------------------------- bad input
def _edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _edit_lines(path: Path, change) -> None:
    lines = path.read_text().splitlines()
    change(lines)
    path.write_text("\n".join(lines) + "\n")


def _checkpoint(run_dir: Path) -> Path:
    return CheckpointSlot(run_dir, "ippo").latest()


@pytest.fixture(scope="module")
def stopped_run(tmp_path_factory):
    """An ippo run interrupted after 4 of its 12 episodes (checkpointed there)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        fail_at_iteration(monkeypatch, 2, KeyboardInterrupt())
        result, run_dir = train_run(tmp_path_factory.mktemp("stopped"), ["--algo", "ippo", "--episodes", "12"])
    assert result.exit_code == 130
    return run_dir


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda run: (run / "config.json").unlink(), "is not a run folder: config.json is missing"),
        (lambda run: _edit_json(run / "config.json", lambda c: c["experiments"][0].pop("seed")),
         "config.json experiments[0] must have exactly the keys ['env', 'env_kwargs', 'algorithm', 'seed', 'stop', "
         "'hyperparams']: missing ['seed'], unknown []"),
        (lambda run: _edit_json(run / "config.json", lambda c: c["experiments"][0].update(stop={"episodes": 0})),
         "config.json experiments[0]: stop.episodes must be a positive integer, got 0"),
        (lambda run: _edit_json(_checkpoint(run) / "trainer_state.json", lambda s: s.update(rng={"state": 1})),
         "trainer_state.json: 'rng' must be the state of a PCG64 generator"),
        (lambda run: (_checkpoint(run) / "heron_progress.json").write_text("{"), "heron_progress.json is corrupt"),
        (lambda run: _edit_json(_checkpoint(run) / "heron_progress.json", lambda p: p.update(episodes=-1)),
         "heron_progress.json must hold non-negative integers 'episodes' and 'env_steps'"),
        (lambda run: (run / "metrics.csv").write_text("backend,algorithm\n"),
         "metrics.csv has the header ['backend', 'algorithm'], expected ['backend', 'algorithm', 'episode', "
         "'env_steps', 'team_return', 'room_a', 'room_b']"),
        (lambda run: (run / "metrics.csv").write_text((run / "metrics.csv").read_text().splitlines()[0] + "\n"),
         "metrics.csv lacks rows of trained episodes: ippo has 0 rows, its checkpoint 4 episodes"),
        (lambda run: _edit_lines(run / "metrics.csv", lambda lines: lines.insert(2, "manual,ippo,x")),
         "metrics.csv line 3 is not a metrics row of 7 columns: 'manual,ippo,x'"),
        (lambda run: _edit_lines(run / "metrics.csv", lambda lines: lines.insert(2, lines[2])),
         "metrics.csv line 4: ippo episode 2 follows episode 2"),
    ],
)
def test_bad_run_folders_are_one_line_errors_on_resume(tmp_path, stopped_run, damage, message):
    run_dir = Path(shutil.copytree(stopped_run, tmp_path / stopped_run.name))
    damage(run_dir)
    assert message in one_line_error(heron("train", "--resume", str(run_dir)))


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
def test_a_full_disk_is_an_os_error_naming_the_metrics_file():
    log = MetricsLog(Path("/dev/full"), ["room_a"])  # every write to /dev/full fails with ENOSPC
    with pytest.raises(OSError, match=r"No space left on device: '/dev/full'"):
        log.append("manual", "ippo", EpisodeRecord(1, -1.0, {"room_a": -1.0}, 50))
