"""Run-folder checkpoint slots (heron.runs.checkpoints) and run-folder names: kill safety and paths that stay inside.

The kill tests SIGKILL a real process that saves into a slot, at chosen moments
of a save and at random ones, then check that the slot still yields a complete,
loadable checkpoint and that the next save removes what the killed one left.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from heron.core import CheckpointError, ConfigError
from heron.portable.checkpoint import PolicyCheckpoint, load_checkpoint, save_checkpoint
from heron.portable.mlp import ActionHead, MLPNetwork
from heron.runs import CheckpointSlot, new_run_dir, read_run_config
from heron.runs.checkpoints import KEEP, POINTER_FILE


def checkpoint(iteration: int) -> PolicyCheckpoint:
    head = ActionHead(1, [-1.0], [1.0], output_activation="tanh")
    weights = (np.full((4, 1), 0.1), np.full((1, 4), 0.2))
    net = MLPNetwork(weights, (np.zeros(4), np.zeros(1)), "tanh", "local", 1, head)
    return PolicyCheckpoint({"p": net}, {"room_a": "p"}, {"iteration": iteration})


def writer(iteration: int):
    return lambda path: save_checkpoint(path, checkpoint(iteration))


def iteration_of(path) -> int:
    return load_checkpoint(path).info["iteration"]


def slot_entries(slot: CheckpointSlot) -> list[str]:
    return sorted(os.listdir(slot.path))


# ----------------------------------------------------------------- saving
def test_saves_are_versions_behind_a_pointer_and_only_the_last_two_are_kept(tmp_path):
    slot = CheckpointSlot(tmp_path, "mappo")
    for iteration in range(1, 5):
        published = slot.save(writer(iteration))
        assert published == tmp_path / "checkpoints" / "mappo" / f"v{iteration:06d}"
        assert slot.latest() == published.resolve() and iteration_of(slot.latest()) == iteration
    assert KEEP == 2
    assert slot_entries(slot) == [POINTER_FILE, "v000003", "v000004"]
    assert json.loads((slot.path / POINTER_FILE).read_text()) == {"version": "v000004"}


def test_a_failed_or_interrupted_write_publishes_nothing_and_leaves_nothing(tmp_path):
    slot = CheckpointSlot(tmp_path, "mappo")
    slot.save(writer(1))

    def interrupted(path):
        path.mkdir()
        (path / "half").write_text("x")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        slot.save(interrupted)
    with pytest.raises(CheckpointError, match=r"created no directory at .*\.staging-.*/checkpoint"):
        slot.save(lambda path: None)
    assert slot_entries(slot) == [POINTER_FILE, "v000001"] and iteration_of(slot.latest()) == 1


def test_a_slot_holding_foreign_files_is_not_written_to(tmp_path):
    slot = CheckpointSlot(tmp_path, "mappo")
    slot.path.mkdir(parents=True)
    (slot.path / "notes.txt").write_text("mine")
    with pytest.raises(CheckpointError, match=r"holds \['notes.txt'\], which are not part of a checkpoint slot"):
        slot.save(writer(1))
    assert slot_entries(slot) == ["notes.txt"]


# --------------------------------------------------------------- loading
def test_nothing_saved_yet_and_a_checkpoint_of_the_old_layout(tmp_path):
    slot = CheckpointSlot(tmp_path, "mappo")
    with pytest.raises(CheckpointError, match=r"no checkpoint of 'mappo' in .*: .*checkpoints/mappo does not exist"):
        slot.latest()
    save_checkpoint(slot.path, checkpoint(1))  # what heron train wrote before versioned slots
    with pytest.raises(CheckpointError, match=r"holds \['policy.json', 'policy.npz'\] but no version directory: .*"
                                              r"move those files into .*checkpoints/mappo/v000001 to use it"):
        slot.latest()


def test_without_a_pointer_the_newest_version_is_used(tmp_path):
    slot = CheckpointSlot(tmp_path, "mappo")
    slot.save(writer(1))
    slot.save(writer(2))
    (slot.path / POINTER_FILE).unlink()
    assert iteration_of(slot.latest()) == 2


@pytest.mark.parametrize(
    ("pointer", "message"),
    [
        ('{"version": "../x"}', r"must be \{\"version\": \"v000001\"\} naming a version directory, got .*\.\./x"),
        ('{"version": "/etc"}', "naming a version directory"),
        ('{"version": "v000001/../../.."}', "naming a version directory"),
        ('{"version": 1}', "naming a version directory"),
        ('["v000001"]', "naming a version directory"),
        ('{"version": "v000001", "extra": 1}', "naming a version directory"),
        ("{not json", r"latest.json is corrupt \(.*\); versions present: \['v000001'\]; to use the newest, write"),
        ('{"version": "v000009"}', r"names v000009, but .*v000009 is not a directory \(versions present: \['v0000"),
    ],
)
def test_a_bad_pointer_is_a_checkpoint_error(tmp_path, pointer, message):
    slot = CheckpointSlot(tmp_path, "mappo")
    slot.save(writer(1))
    (slot.path / POINTER_FILE).write_text(pointer)
    with pytest.raises(CheckpointError, match=message):
        slot.latest()


@pytest.fixture
def outside(tmp_path):
    """A complete checkpoint outside the run folder (tmp_path / "run")."""
    return save_checkpoint(tmp_path / "elsewhere" / "ckpt", checkpoint(666))


def _saved_slot(tmp_path) -> CheckpointSlot:
    slot = CheckpointSlot(tmp_path / "run", "mappo")
    slot.save(writer(1))
    return slot


def test_a_version_symlinked_outside_the_run_folder_is_refused(tmp_path, outside):
    slot = _saved_slot(tmp_path)
    os.symlink(outside, slot.path / "v000002")
    (slot.path / POINTER_FILE).write_text('{"version": "v000002"}')
    with pytest.raises(CheckpointError, match=r"v000002 resolves to .*elsewhere/ckpt, which is outside .*run"):
        slot.latest()
    (slot.path / POINTER_FILE).unlink()  # the newest version is the symlink: refused as well
    with pytest.raises(CheckpointError, match="which is outside"):
        slot.latest()


def test_a_symlinked_slot_or_pointer_is_refused_and_never_written_through(tmp_path, outside):
    slot = _saved_slot(tmp_path)
    pointer = slot.path / POINTER_FILE
    pointer.unlink()
    (tmp_path / "elsewhere" / "latest.json").write_text('{"version": "v000001"}')
    os.symlink(tmp_path / "elsewhere" / "latest.json", pointer)
    with pytest.raises(CheckpointError, match=r"latest.json resolves to .*, which is outside"):
        slot.latest()
    other = CheckpointSlot(tmp_path / "run", "ippo")
    other.path.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    for call in (other.latest, lambda: other.save(writer(2))):
        with pytest.raises(CheckpointError, match=r"checkpoints/ippo resolves to .*elsewhere, which is outside"):
            call()
    assert sorted(os.listdir(tmp_path / "elsewhere")) == ["ckpt", "latest.json"]


def test_symlinks_inside_a_checkpoint_must_stay_inside_the_run_folder(tmp_path, outside):
    slot = _saved_slot(tmp_path)
    version = slot.latest()
    shared = tmp_path / "run" / "shared.bin"
    shared.write_bytes(b"inside")
    os.symlink(shared, version / "inside_link")
    assert slot.latest() == version  # a link that stays inside is fine
    os.symlink(tmp_path / "run", version / "loop")  # a directory link back up: walked once, no endless loop
    assert slot.latest() == version
    (tmp_path / "run" / "linked").mkdir()
    os.symlink(outside / "policy.npz", tmp_path / "run" / "linked" / "escape")
    os.symlink(tmp_path / "run" / "linked", version / "via_dir")  # the escape sits behind a directory link
    with pytest.raises(CheckpointError, match=r"linked/escape resolves to .*elsewhere/ckpt/policy.npz"):
        slot.latest()
    (version / "via_dir").unlink()
    os.symlink("cycle", version / "cycle")
    with pytest.raises(CheckpointError, match=r"cycle cannot be resolved: Symlink loop"):
        slot.latest()


@pytest.mark.parametrize("name", ["../../other", "/abs", "a/b", "..", ".hidden", "", "v1 2", 5, None])
def test_algorithm_names_must_be_plain_names(tmp_path, name):
    with pytest.raises(ConfigError, match=rf"algorithm name must be a plain name .*, got {re.escape(repr(name))}"):
        CheckpointSlot(tmp_path, name)


# ------------------------------------------------------- run-folder names
@pytest.mark.parametrize("name", ["a/../b", "../x", "/abs", "..", ".", "a\\b/c", "x/"])
def test_new_run_dir_refuses_names_with_path_parts(tmp_path, name):
    with pytest.raises(ConfigError, match=rf"run name must be a plain name .*, got {re.escape(repr(name))}"):
        new_run_dir(tmp_path / "runs", name)
    assert not (tmp_path / "runs").exists()


def test_new_run_dir_creates_one_fresh_folder_inside_root(tmp_path):
    first, second = new_run_dir(tmp_path, "thermostat-manual"), new_run_dir(tmp_path, "thermostat-manual")
    assert first != second and first.parent == second.parent == tmp_path and first.is_dir() and second.is_dir()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "config.json is not a run config: expected 'backend' and 'experiments'"),
        ([1, 2], "got [1, 2]"),
        ({"backend": "manual", "experiments": []}, "config.json lists no experiments"),
        ({"backend": "manual", "experiments": [{"algorithm": "../../other", "env": "thermostat", "env_kwargs": {}}]},
         "config.json: experiments[0].algorithm must be a plain name"),
        ({"backend": "manual", "experiments": [{"algorithm": "ippo", "env": "thermostat", "env_kwargs": {}}] * 2},
         "config.json: algorithm(s) ['ippo'] appear in more than one experiment"),
    ],
)
def test_read_run_config_names_the_file_and_the_problem(tmp_path, config, message):
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError) as caught:
        read_run_config(tmp_path)
    assert message in str(caught.value) and str(tmp_path / "config.json") in str(caught.value)


def test_read_run_config_refuses_a_config_outside_the_run_folder(tmp_path):
    (tmp_path / "other.json").write_text('{"backend": "manual", "experiments": []}')
    (tmp_path / "run").mkdir()
    os.symlink(tmp_path / "other.json", tmp_path / "run" / "config.json")
    with pytest.raises(ConfigError, match=r"run/config.json resolves to .*other.json, which is outside"):
        read_run_config(tmp_path / "run")


# ------------------------------------------------------------ kill safety
CHILD = textwrap.dedent(
    """
    import os, re, sys, time
    from pathlib import Path

    sys.path.insert(0, sys.argv[4])
    from test_checkpoint_slot import writer
    from heron.runs.checkpoints import CheckpointSlot

    run_dir, pause_at, pause_save = sys.argv[1], sys.argv[2], int(sys.argv[3])
    save_no = 0

    def pause(phase):
        if phase == pause_at and save_no == pause_save:
            print("paused", phase, flush=True)
            time.sleep(600)

    def watched(rename):
        def wrapper(src, dst, *args, **kwargs):
            name = Path(dst).name
            if re.fullmatch("v[0-9]{6}", name):
                pause("before-publish")
            if name == "latest.json":
                pause("before-pointer")
            rename(src, dst, *args, **kwargs)
            if name == "latest.json":
                pause("after-pointer")
        return wrapper

    os.rename, os.replace = watched(os.rename), watched(os.replace)

    def write(path):
        writer(save_no)(path)
        (path / "state.bin").write_bytes(os.urandom(1 << 18))
        pause("write")

    slot = CheckpointSlot(run_dir, "mappo")
    print("ready", flush=True)
    while True:
        save_no += 1
        slot.save(write)
        print("saved", save_no, flush=True)
    """
)


def _start_child(run_dir, pause_at="none", pause_save=0) -> subprocess.Popen:
    here = os.path.dirname(__file__)
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(run_dir), pause_at, str(pause_save), here],
        stdout=subprocess.PIPE, text=True,
    )


def _kill(child: subprocess.Popen) -> str:
    child.send_signal(signal.SIGKILL)
    rest, _ = child.communicate()
    assert child.returncode == -signal.SIGKILL
    return rest


def _check_next_save_cleans_up(slot: CheckpointSlot) -> None:
    published = slot.save(writer(99))
    assert iteration_of(slot.latest()) == 99 and slot.latest() == published.resolve()
    entries = slot_entries(slot)
    assert entries[0] == POINTER_FILE and len(entries) <= 1 + KEEP
    assert all(name.startswith("v") for name in entries[1:])  # no staging, trash or pointer temporaries


@pytest.mark.parametrize(
    ("phase", "save_no", "expected"),
    [
        ("write", 1, None),             # the first save killed while writing: nothing published
        ("before-publish", 1, None),
        ("before-pointer", 1, 1),       # v000001 renamed in, no pointer yet: the newest version is used
        ("write", 3, 2),
        ("before-publish", 3, 2),       # fsynced, not renamed: the staging directory is a leftover
        ("before-pointer", 3, 2),       # v000003 complete but unnamed by the pointer: v000002 stays the latest
        ("after-pointer", 3, 3),        # the pointer moved, old versions not pruned yet
    ],
)
def test_sigkill_during_a_save_leaves_a_complete_checkpoint(tmp_path, phase, save_no, expected):
    child = _start_child(tmp_path, phase, save_no)
    assert child.stdout.readline() == "ready\n"
    lines = []
    while not (line := child.stdout.readline()).startswith("paused"):
        lines.append(line)
    assert line == f"paused {phase}\n" and len(lines) == save_no - 1
    _kill(child)
    slot = CheckpointSlot(tmp_path, "mappo")
    if phase in ("write", "before-publish"):
        assert any(name.startswith(".staging-") for name in slot_entries(slot))  # the kill hit mid-save
    if expected is None:
        with pytest.raises(CheckpointError, match="the run stopped before its first save"):
            slot.latest()
    else:
        assert iteration_of(slot.latest()) == expected
    _check_next_save_cleans_up(slot)


def test_sigkill_at_random_moments_always_leaves_the_last_complete_checkpoint(tmp_path):
    rng = random.Random(13)
    for attempt in range(8):
        run_dir = tmp_path / f"run{attempt}"
        child = _start_child(run_dir)
        assert child.stdout.readline() == "ready\n"
        assert child.stdout.readline() == "saved 1\n"
        time.sleep(rng.uniform(0.0, 0.3))
        rest = _kill(child)
        last_reported = 1 + rest.count("saved")
        slot = CheckpointSlot(run_dir, "mappo")
        # the kill may land after the pointer moved but before the child printed "saved"
        assert iteration_of(slot.latest()) in (last_reported, last_reported + 1)
        _check_next_save_cleans_up(slot)
