"""Run folders are data: loading an RLlib checkpoint never unpickles, unless the user opts in.

The crafted folders are real ``heron train --backend rllib`` run folders whose pickled files (RLlib's
``class_and_ctor_args.pkl``, ``state.pkl``, ...) are replaced by a payload that creates a marker file
when unpickled. :func:`load_pickled` proves the payload live: it runs it.
"""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from heron.backends.rllib.checkpoint import load_pickled, load_policies
from heron.cli.main import cli
from heron.core.errors import CheckpointError
from heron.portable.mlp import MLPPolicy
from heron.runs.checkpoints import CheckpointSlot
from heron.training.registry import make_env


class Payload:
    """Unpickling it opens (creates) ``marker``: stands for any code a crafted folder may run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return open, (str(self.marker), "w")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """An IPPO run folder as ``heron train --backend rllib`` writes it (one PPO iteration)."""
    out = tmp_path_factory.mktemp("runs")
    result = CliRunner().invoke(cli, ["train", "--backend", "rllib", "--algo", "ippo", "--episodes", "4", "--out",
                                      str(out), "--set", "train_batch_size=200", "--set", "minibatch_size=100",
                                      "--set", "num_epochs=1"])
    assert result.exit_code == 0, result.output
    (run,) = out.iterdir()
    return run


def crafted(run_dir: Path, tmp_path: Path, *, portable: bool) -> tuple[Path, Path, Path]:
    """A copy of the run with every pickle replaced by the payload (and, unless ``portable``, no portable export).

    Returns the run folder, its checkpoint directory and the marker the payload would create.
    """
    run = Path(shutil.copytree(run_dir, tmp_path / "run"))
    marker = tmp_path / "payload-ran"
    checkpoint = CheckpointSlot(run, "ippo").latest()
    pickles = list(checkpoint.rglob("*.pkl"))
    assert any(p.name == "class_and_ctor_args.pkl" for p in pickles) and len(pickles) >= 4
    for file in pickles:
        file.write_bytes(pickle.dumps(Payload(marker)))
    if not portable:
        shutil.rmtree(checkpoint / "portable")
        info = json.loads((checkpoint / "heron_rllib.json").read_text())
        info.update(portable=False, portable_error="the MeanStdFilter clips observations at ±10.0")
        (checkpoint / "heron_rllib.json").write_text(json.dumps(info))
    return run, checkpoint, marker


def test_load_policies_reads_the_portable_export_and_never_unpickles(run_dir, tmp_path):
    _, checkpoint, marker = crafted(run_dir, tmp_path, portable=True)
    policies = load_policies(checkpoint)
    assert set(policies) == {"room_a", "room_b"} and all(isinstance(p, MLPPolicy) for p in policies.values())
    env = make_env("thermostat")
    observations, _ = env.reset(seed=1)
    assert all(np.isfinite(policies[aid].forward(observations[aid]).c).all() for aid in policies)
    assert not marker.exists()


def test_the_backends_loader_needs_neither_ray_nor_torch(run_dir):
    checkpoint = CheckpointSlot(run_dir, "ippo").latest()
    code = ("import sys; from heron.backends.rllib.plugin import heron_backends; (backend,) = heron_backends(); "
            f"print(sorted(backend.load_policies({str(checkpoint)!r})), "
            "[m for m in ('ray', 'torch') if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['room_a', 'room_b'] []"


def test_without_a_portable_export_load_policies_says_why_and_how_to_opt_in(run_dir, tmp_path):
    _, checkpoint, marker = crafted(run_dir, tmp_path, portable=False)
    with pytest.raises(CheckpointError, match=r"has no portable policies \(the MeanStdFilter clips observations at "
                                              r"±10\.0\); `heron evaluate --allow-pickle` \(load_pickled in Python\) "
                                              r"loads RLlib's pickled checkpoint instead, which runs code"):
        load_policies(checkpoint)
    assert not marker.exists()


def test_load_pickled_warns_and_does_run_the_folders_code(run_dir, tmp_path):
    _, checkpoint, marker = crafted(run_dir, tmp_path, portable=False)
    with pytest.warns(UserWarning, match="unpickles its files, which runs code from that folder"), \
            pytest.raises(CheckpointError, match=r"class_and_ctor_args\.pkl is corrupt"):
        load_pickled(checkpoint)
    assert marker.exists()  # the payload is live: only the opt-in ran it


def test_load_pickled_loads_rllibs_checkpoint_with_the_same_actions_as_the_export(run_dir):
    checkpoint = CheckpointSlot(run_dir, "ippo").latest()
    with pytest.warns(UserWarning, match="runs code"):
        bridges = load_pickled(checkpoint)
    portable = load_policies(checkpoint)
    observations, _ = make_env("thermostat").reset(seed=2)
    for aid, policy in portable.items():
        np.testing.assert_allclose(policy.forward(observations[aid]).c, bridges[aid].forward(observations[aid]).c,
                                   rtol=1e-5, atol=1e-5)


def test_heron_evaluate_on_a_crafted_run_folder_fails_in_one_line_and_runs_no_code(run_dir, tmp_path):
    run, _, marker = crafted(run_dir, tmp_path, portable=False)
    result = CliRunner().invoke(cli, ["evaluate", str(run), "--episodes", "1"])
    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Error: ") and "has no portable policies" in line and "--allow-pickle" in line, line
    assert not marker.exists()


def test_heron_evaluate_uses_the_export_beside_planted_pickles(run_dir, tmp_path):
    run, _, marker = crafted(run_dir, tmp_path, portable=True)
    result = CliRunner().invoke(cli, ["evaluate", str(run), "--episodes", "1"])
    assert result.exit_code == 0, result.output
    assert "ippo" in result.output and not marker.exists()


def test_heron_evaluate_allow_pickle_is_the_only_way_the_payload_runs(run_dir, tmp_path):
    run, _, marker = crafted(run_dir, tmp_path, portable=False)
    result = CliRunner().invoke(cli, ["evaluate", str(run), "--episodes", "1", "--allow-pickle"])
    assert result.exit_code == 1 and "class_and_ctor_args.pkl is corrupt" in result.output
    assert marker.exists()
