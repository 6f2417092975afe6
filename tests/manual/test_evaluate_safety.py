"""`heron evaluate` on run folders that are crafted, old or cut short: data only, nothing outside RUN_DIR, one line.

Run folders are shared like any download: evaluating one must never unpickle
or import anything from it (without --allow-pickle), nor read or write
anything outside it.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import shutil
import types

import numpy as np
import pytest
from click.testing import CliRunner

from heron.backends.manual.trainer import ManualTrainer
from heron.cli.main import cli
from heron.core import CheckpointError
from heron.evaluation.episodes import evaluate_policies
from heron.portable.checkpoint import load_policies, save_checkpoint
from heron.runs import CheckpointSlot, write_run_config
from heron.training import BackendSpec, ExperimentSpec, make_env
from heron.training.hookspecs import hookimpl
from heron.training.plugins import get_plugin_manager

SPEC = ExperimentSpec(env="thermostat", algorithm="ippo", seed=0, stop={"episodes": 4})


class Payload:
    """Unpickling it creates the file ``marker``: proof that code from the run folder ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("trained") / "run"
    run_dir.mkdir()
    trainer = ManualTrainer(SPEC)
    trainer.train()
    write_run_config(run_dir, "manual", [SPEC])
    CheckpointSlot(run_dir, "ippo").save(trainer.save)
    return run_dir


@pytest.fixture
def run_dir(trained_run, tmp_path):
    return shutil.copytree(trained_run, tmp_path / "run", symlinks=True)


def evaluate(*args):
    return CliRunner().invoke(cli, ["evaluate", *map(str, args)])


def assert_one_line_error(result, *fragments):
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: ") and len(result.output.strip().splitlines()) == 1, result.output
    for fragment in fragments:
        assert fragment in result.output, result.output


def latest(run_dir):
    return CheckpointSlot(run_dir, "ippo").latest()


# ------------------------------------------------------------ data only
def test_evaluate_uses_the_last_complete_checkpoint(run_dir):
    trainer = ManualTrainer(SPEC)
    trainer.restore(latest(run_dir))
    trainer.train()  # a later, different checkpoint
    CheckpointSlot(run_dir, "ippo").save(trainer.save)
    expected = np.mean(evaluate_policies(make_env("thermostat"), load_policies(latest(run_dir)), 3, 1000))
    result = evaluate(run_dir, "--episodes", "3")
    assert result.exit_code == 0, result.output
    assert re.search(rf"ippo │ +{expected:.2f} │", result.output), result.output


def test_a_pickle_payload_in_the_run_folder_is_never_unpickled(run_dir, tmp_path):
    marker = tmp_path / "code-ran"
    payload = pickle.dumps(Payload(marker))
    pickle.loads(pickle.dumps(Payload(tmp_path / "probe")))
    assert (tmp_path / "probe").exists()  # the payload works: unpickling it does run code
    checkpoint = latest(run_dir)
    for place in (checkpoint / "class_and_ctor_args.pkl", checkpoint / "rllib_checkpoint" / "algorithm_state.pkl",
                  run_dir / "payload.pkl"):
        place.parent.mkdir(exist_ok=True)
        place.write_bytes(payload)
    result = evaluate(run_dir, "--episodes", "2")
    assert result.exit_code == 0, result.output
    (checkpoint / "policy.json").unlink()  # only the pickles remain to load from
    result = evaluate(run_dir)
    assert_one_line_error(result, f"{checkpoint} is not a HERON checkpoint: policy.json is missing")
    assert not marker.exists()


def test_allow_pickle_needs_a_backend_with_a_pickled_format(run_dir):
    assert_one_line_error(evaluate(run_dir, "--allow-pickle"),
                          "backend 'manual' has no pickled checkpoint format: --allow-pickle does not apply")


def test_allow_pickle_uses_the_backend_pickled_loader_and_warns(run_dir):
    calls = []

    def data_only(path):
        raise CheckpointError(f"{path} holds no portable export")

    def pickled(path):
        calls.append(path)
        return load_policies(path)

    spec = BackendSpec("pickly", ("ippo",), ManualTrainer, data_only, "test backend", load_pickled=pickled)
    plugin = types.ModuleType("pickly")
    plugin.heron_backends = hookimpl(lambda: [spec])
    get_plugin_manager().register_plugin(plugin, "pickly")
    config = json.loads((run_dir / "config.json").read_text())
    (run_dir / "config.json").write_text(json.dumps({**config, "backend": "pickly"}))
    assert_one_line_error(evaluate(run_dir), "holds no portable export")
    assert calls == []
    result = evaluate(run_dir, "--allow-pickle", "--episodes", "2")
    assert result.exit_code == 0, result.output
    assert calls == [latest(run_dir)]
    assert result.stderr.strip().splitlines() == [
        f"Warning: --allow-pickle unpickles 'pickly' checkpoint files in {run_dir}, which runs code from that "
        "folder: use it only on run folders you trust."
    ]


# ------------------------------------------------- nothing outside RUN_DIR
@pytest.fixture
def other_run(trained_run, tmp_path):
    """Another run folder beside RUN_DIR, whose checkpoint a crafted RUN_DIR might point at."""
    return shutil.copytree(trained_run, tmp_path / "other", symlinks=True)


@pytest.mark.parametrize("algorithm", ["../../other/checkpoints/ippo", "/tmp/elsewhere", "ippo/../../x", ".."])
def test_an_algorithm_name_with_path_parts_is_refused(run_dir, other_run, algorithm):
    config = json.loads((run_dir / "config.json").read_text())
    config["experiments"][0]["algorithm"] = algorithm
    (run_dir / "config.json").write_text(json.dumps(config))
    assert_one_line_error(evaluate(run_dir), f"{run_dir / 'config.json'}: experiments[0].algorithm must be a plain "
                                             f"name", repr(algorithm))


def test_a_slot_or_version_symlinked_outside_is_refused(run_dir, other_run):
    slot = CheckpointSlot(run_dir, "ippo")
    version = latest(run_dir).name
    shutil.rmtree(slot.path / version)
    os.symlink(latest(other_run), slot.path / version)
    assert_one_line_error(evaluate(run_dir), f"{slot.path / version} resolves to", "which is outside")
    shutil.rmtree(slot.path.parent)
    os.symlink(other_run / "checkpoints", run_dir / "checkpoints")
    assert_one_line_error(evaluate(run_dir), f"{slot.path} resolves to {other_run.resolve()}", "which is outside")


def test_a_pointer_out_of_the_slot_is_refused(run_dir, other_run):
    pointer = CheckpointSlot(run_dir, "ippo").path / "latest.json"
    pointer.write_text(json.dumps({"version": f"../../../other/checkpoints/ippo/{latest(other_run).name}"}))
    assert_one_line_error(evaluate(run_dir), f"{pointer} must be {{\"version\": \"v000001\"}} naming a version")


def test_a_file_symlinked_outside_is_refused(run_dir, other_run):
    checkpoint = latest(run_dir)
    (checkpoint / "policy.npz").unlink()
    os.symlink(latest(other_run) / "policy.npz", checkpoint / "policy.npz")
    assert_one_line_error(evaluate(run_dir), f"{checkpoint / 'policy.npz'} resolves to", "which is outside")
    (run_dir / "config.json").unlink()
    os.symlink(other_run / "config.json", run_dir / "config.json")
    assert_one_line_error(evaluate(run_dir), f"{run_dir / 'config.json'} resolves to", "which is outside")


def test_an_event_driven_sweep_never_writes_through_a_planted_symlink(run_dir, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    os.symlink(victim, run_dir / "event_driven_obs_delay.csv")
    result = evaluate(run_dir, "--event-driven", "--obs-delay", "0,1", "--episodes", "1")
    assert_one_line_error(result, "event_driven_obs_delay.csv resolves to", "which is outside")
    assert victim.read_text() == "precious"


# ---------------------------------------------- old, cut short, corrupt
def test_a_checkpoint_in_the_old_layout_is_refused_with_what_to_do(run_dir):
    slot = CheckpointSlot(run_dir, "ippo")
    shutil.rmtree(slot.path)
    save_checkpoint(slot.path, ManualTrainer(SPEC).checkpoint())  # policy.json directly in checkpoints/ippo
    assert_one_line_error(evaluate(run_dir), "but no version directory",
                          f"move those files into {slot.path / 'v000001'} to use it")


def test_a_run_stopped_before_its_first_checkpoint(run_dir):
    shutil.rmtree(run_dir / "checkpoints")
    assert_one_line_error(evaluate(run_dir), f"no checkpoint of 'ippo' in {run_dir}")


def test_compare_reports_an_unreadable_or_escaping_metrics_file_in_one_line(run_dir, other_run):
    (run_dir / "metrics.csv").write_bytes(b"\xff\xfe\x00garbage")
    assert_one_line_error(CliRunner().invoke(cli, ["compare", str(run_dir)]), "metrics.csv is corrupt")
    (run_dir / "metrics.csv").unlink()
    (other_run / "metrics.csv").write_text("backend,algorithm,episode,env_steps,team_return\n")
    os.symlink(other_run / "metrics.csv", run_dir / "metrics.csv")
    assert_one_line_error(CliRunner().invoke(cli, ["compare", str(run_dir)]), "metrics.csv resolves to",
                          "which is outside")
