"""heron-core's portable policy format (heron.portable.mlp) and checkpoint files (heron.portable.checkpoint).

These tests need heron-core only: the format is what every backend exports to.
"""

from __future__ import annotations

import itertools
import json
import os

import numpy as np
import pytest

from heron.core import CheckpointError, ConfigError, UnknownAgentError
from heron.evaluation.episodes import evaluate_policies
from heron.portable.checkpoint import (
    ARRAYS_FILE,
    METADATA_FILE,
    PolicyCheckpoint,
    _write_directory_atomically,
    check_matches_env,
    load_checkpoint,
    load_policies,
    save_checkpoint,
)
from heron.portable.mlp import ActionHead, MLPNetwork, MLPPolicy
from heron.training import make_env


def network(head=None, *, obs_dim=1, agent_ids=None, normalize=True, seed=0, hidden=(8,), activation="tanh"):
    head = head or ActionHead(1, [-1.0], [1.0], output_activation="tanh")
    rng = np.random.default_rng(seed)
    sizes = [obs_dim + (len(agent_ids) if agent_ids else 0), *hidden, head.output_size]
    weights = tuple(rng.standard_normal((o, i)) for i, o in itertools.pairwise(sizes))
    biases = tuple(rng.standard_normal(o) for o in sizes[1:])
    stats = (np.full(obs_dim, 20.0), np.full(obs_dim, 3.0)) if normalize else (None, None)
    return MLPNetwork(weights, biases, activation, "local", obs_dim, head, *stats, agent_ids=agent_ids)


def shared_checkpoint():
    net = network(agent_ids=("room_a", "room_b"))
    return PolicyCheckpoint({"Thermostat": net}, {"room_a": "Thermostat", "room_b": "Thermostat"}, {"note": "x"})


# ------------------------------------------------------------- inference
def test_continuous_output_is_scaled_from_half_range_units_and_clipped():
    head = ActionHead(2, [0.0, -2.0], [10.0, 2.0], output_activation="identity", scaling="normalized")
    np.testing.assert_allclose(head.decode(np.array([[0.0, 1.5], [-1.0, -0.5]])), [[5.0, 2.0], [0.0, -1.0]])
    raw = ActionHead(1, [-1.0], [1.0], scaling="none")
    np.testing.assert_allclose(raw.decode(np.array([[0.3], [7.0]])), [[0.3], [1.0]])


def test_discrete_heads_act_by_argmax_after_the_continuous_part():
    head = ActionHead(1, [-1.0], [1.0], ncats=(3, 2), output_activation="tanh")
    outputs = np.array([[0.0, 0.1, 0.9, 0.2, 5.0, -5.0]])
    np.testing.assert_allclose(head.decode(outputs), [[0.0, 1.0, 0.0]])


def test_mlp_policy_acts_on_observations_with_normalisation_and_one_hot():
    net = network(agent_ids=("room_a", "room_b"))
    env = make_env("thermostat")
    observations, _ = env.reset(seed=3)
    for index, agent_id in enumerate(env.possible_agents):
        action = MLPPolicy(net, agent_id).forward(observations[agent_id])
        temperature = observations[agent_id].local_vector()
        x = np.concatenate([(temperature - 20.0) / 3.0, np.eye(2)[index]])
        hidden = np.tanh(net.weights[0] @ x + net.biases[0])
        expected = np.tanh(net.weights[1] @ hidden + net.biases[1])
        np.testing.assert_allclose(action.c, expected)
    with pytest.raises(UnknownAgentError, match="room_c"):
        MLPPolicy(net, "room_c")


def test_network_shapes_are_checked_with_precise_messages():
    good = network()
    with pytest.raises(ConfigError, match=r"layer 1 weight has shape \(1, 7\), expected \(out, 8\)"):
        MLPNetwork((good.weights[0], np.zeros((1, 7))), good.biases, "tanh", "local", 1, good.head)
    with pytest.raises(ConfigError, match=r"the last layer has 1 outputs, the action head needs 3 \(dim_c=0"):
        MLPNetwork(good.weights, good.biases, "tanh", "local", 1, ActionHead(0, [], [], ncats=(3,)))
    with pytest.raises(ConfigError, match="unknown hidden_activation 'gelu'"):
        MLPNetwork(good.weights, good.biases, "gelu", "local", 1, good.head)
    with pytest.raises(ConfigError, match="NaN"):
        MLPNetwork((good.weights[0] * np.nan, good.weights[1]), good.biases, "tanh", "local", 1, good.head)


# ------------------------------------------------------------ round trip
def test_save_and_load_round_trip(tmp_path):
    checkpoint = shared_checkpoint()
    path = save_checkpoint(tmp_path / "ckpt", checkpoint)
    assert sorted(os.listdir(path)) == [METADATA_FILE, ARRAYS_FILE]
    loaded = load_checkpoint(path)
    assert dict(loaded.agents) == dict(checkpoint.agents) and loaded.info == {"note": "x"}
    original, again = checkpoint.networks["Thermostat"], loaded.networks["Thermostat"]
    for a, b in zip(original.weights + original.biases, again.weights + again.biases):
        np.testing.assert_array_equal(a, b)
    env = make_env("thermostat")
    before = evaluate_policies(env, checkpoint.policies(), episodes=3, seed=5)
    assert evaluate_policies(env, load_policies(path), episodes=3, seed=5) == before


def test_saving_again_replaces_the_checkpoint_and_leaves_no_temporary_files(tmp_path):
    save_checkpoint(tmp_path / "ckpt", shared_checkpoint())
    other = PolicyCheckpoint({"solo": network(seed=9)}, {"room_a": "solo"})
    save_checkpoint(tmp_path / "ckpt", other)
    assert list(load_checkpoint(tmp_path / "ckpt").agents) == ["room_a"]
    assert sorted(os.listdir(tmp_path)) == ["ckpt"]


def test_an_interrupted_save_keeps_the_previous_checkpoint(tmp_path):
    save_checkpoint(tmp_path / "ckpt", shared_checkpoint())

    def interrupted(directory):
        (directory / "partial").write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(tmp_path / "ckpt", shared_checkpoint(), write_extra=interrupted)
    assert sorted(os.listdir(tmp_path)) == ["ckpt"]
    assert sorted(os.listdir(tmp_path / "ckpt")) == [METADATA_FILE, ARRAYS_FILE]
    load_checkpoint(tmp_path / "ckpt")


def test_a_save_removes_the_leftovers_of_killed_saves_of_the_same_checkpoint(tmp_path):
    save_checkpoint(tmp_path / "ckpt", shared_checkpoint())
    for leftover in (".ckpt.tmp-abc", ".ckpt.old-def"):  # what a kill during filling or swapping leaves
        (tmp_path / leftover).mkdir()
        (tmp_path / leftover / METADATA_FILE).write_text("{}")
    (tmp_path / ".other.tmp-1").write_text("not ours")
    save_checkpoint(tmp_path / "ckpt", shared_checkpoint())
    assert sorted(os.listdir(tmp_path)) == [".other.tmp-1", "ckpt"]
    load_checkpoint(tmp_path / "ckpt")


def test_a_directory_that_is_not_a_checkpoint_is_never_replaced(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "notes.txt").write_text("mine")
    with pytest.raises(CheckpointError, match="refusing to replace"):
        _write_directory_atomically(tmp_path / "data", lambda directory: None)
    assert (tmp_path / "data" / "notes.txt").read_text() == "mine"


# ------------------------------------------------------- corrupt files
def _saved(tmp_path):
    return save_checkpoint(tmp_path / "ckpt", shared_checkpoint())


def _edit_metadata(path, change):
    data = json.loads((path / METADATA_FILE).read_text())
    change(data)
    (path / METADATA_FILE).write_text(json.dumps(data))


def _rewrite_arrays(path, change):
    with np.load(path / ARRAYS_FILE) as data:
        arrays = {key: data[key] for key in data.files}
    change(arrays)
    with open(path / ARRAYS_FILE, "wb") as handle:
        np.savez(handle, **arrays)


def test_missing_directory_and_files(tmp_path):
    with pytest.raises(CheckpointError, match=r"no checkpoint at .*missing: not an existing directory"):
        load_checkpoint(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match=r"is not a HERON checkpoint: policy.json is missing"):
        load_checkpoint(tmp_path / "empty")
    path = _saved(tmp_path)
    (path / ARRAYS_FILE).unlink()
    with pytest.raises(CheckpointError, match=r"policy.npz is missing"):
        load_checkpoint(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format="something-else"), "format is 'something-else', expected 'heron-policy-checkpoint'"),
        (lambda d: d.update(format_version=2), "format_version 2 is not supported"),
        (lambda d: d.update(extra=1), "keys are .*'extra'"),
        (lambda d: d["agents"].update(room_c="Nope"), "agent 'room_c' uses network 'Nope'"),
        (lambda d: d["policies"]["Thermostat"].update(hidden_activation="gelu"), "unknown hidden_activation"),
        (lambda d: d["policies"]["Thermostat"]["layers"][0].__setitem__(0, 9),
         r"layer 0 weight has shape \[8, 3\] in policy.npz, but policy.json declares \[9, 3\]"),
        (lambda d: d["policies"]["Thermostat"].update(obs_dim=2), r"obs_mean has shape \(1,\), expected \(2,\)"),
        (lambda d: d["policies"]["Thermostat"]["action"].update(dim_c=2),
         r"action head low has shape \(1,\), expected \(2,\)"),
        (lambda d: d["policies"]["Thermostat"].update(agent_ids=["room_a", "room_x"]),
         "no one-hot entry for agent 'room_b'"),
        (lambda d: d["agents"].update(room_a=["Thermostat"]), r"agent 'room_a' uses network \['Thermostat'\]"),
        (lambda d: d["policies"]["Thermostat"]["action"].update(ncats=["x"]),
         r"policy 'Thermostat': action head ncats entry must be a positive integer, got 'x'"),
        (lambda d: d["policies"]["Thermostat"]["action"].update(ncats=3),
         "policy 'Thermostat': action head ncats must be a list of integers >= 1, got 3"),
    ],
)
def test_inconsistent_metadata_is_a_precise_checkpoint_error(tmp_path, change, message):
    path = _saved(tmp_path)
    _edit_metadata(path, change)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)


def test_corrupt_json_and_truncated_arrays(tmp_path):
    path = _saved(tmp_path)
    (path / METADATA_FILE).write_text('{"format": ')
    with pytest.raises(CheckpointError, match=r"policy.json is corrupt"):
        load_checkpoint(path)
    path = save_checkpoint(tmp_path / "ckpt", shared_checkpoint())
    data = (path / ARRAYS_FILE).read_bytes()
    (path / ARRAYS_FILE).write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"policy.npz is corrupt"):
        load_checkpoint(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: a.pop("Thermostat/bias_1"), r"lacks array\(s\) \['Thermostat/bias_1'\]"),
        (lambda a: a.update({"Thermostat/weight_7": np.zeros(2)}), "does not describe"),
        (lambda a: a.update({"Thermostat/bias_0": np.zeros(5)}), r"layer 0 bias has shape \(5,\), expected \(8,\)"),
        (lambda a: a.update({"Thermostat/obs_std": np.array([0.0])}), "obs_std must be positive"),
        (lambda a: a["Thermostat/weight_1"].__setitem__((0, 0), np.inf), "NaN or infinity"),
    ],
)
def test_arrays_that_do_not_match_the_metadata(tmp_path, change, message):
    path = _saved(tmp_path)
    _rewrite_arrays(path, change)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)


def test_a_checkpoint_is_checked_against_the_env_it_is_used_on(tmp_path):
    checkpoint = shared_checkpoint()
    check_matches_env(checkpoint, make_env("thermostat"))
    with pytest.raises(CheckpointError, match=r"agents \['room_a', 'room_b'\], the env's acting agents are"):
        check_matches_env(checkpoint, make_env("thermostat", num_rooms=3))
    wide = network(obs_dim=3, agent_ids=("room_a", "room_b"))
    with pytest.raises(CheckpointError, match="'room_a' observes 1 values in mode 'local', the network expects 3"):
        check_matches_env(PolicyCheckpoint({"n": wide}, {"room_a": "n", "room_b": "n"}), make_env("thermostat"))
    discrete = network(ActionHead(0, [], [], ncats=(3,)))
    with pytest.raises(CheckpointError, match=r"has action dim_c=1, .* the network produces dim_c=0, ncats=\[3\]"):
        check_matches_env(PolicyCheckpoint({"n": discrete}, {"room_a": "n", "room_b": "n"}), make_env("thermostat"))
