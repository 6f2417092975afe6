"""RLlibTrainer.restore: a data-only resume (JSON + pickle-free npz) that continues weights, counters and episodes."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from heron.backends.rllib._state import decode_tree, encode_tree
from heron.backends.rllib.trainer import RLlibTrainer
from heron.core.errors import BackendError, CheckpointError
from heron.training.experiment import ExperimentSpec

SMALL = {"train_batch_size": 200, "minibatch_size": 100, "num_epochs": 2}  # 4 thermostat episodes per iteration


def spec(**overrides) -> ExperimentSpec:
    return ExperimentSpec(**{"algorithm": "ippo", "seed": 4, "stop": {"episodes": 6}, "hyperparams": SMALL,
                             **overrides})


def module_weights(trainer: RLlibTrainer) -> dict[str, dict[str, np.ndarray]]:
    """Every module's weights in the learner and in the (local) env runner that samples."""
    learner = trainer.algo.learner_group.get_state()["learner"]["rl_module"]
    runner = trainer.algo.env_runner.module.get_state()
    return {f"{where}/{mid}": {key: np.array(value) for key, value in state[mid].items()}
            for where, state in (("learner", learner), ("runner", runner)) for mid in state}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Two iterations of IPPO (stop.episodes=6 trains 8), then a checkpoint; what the trainer had at that point."""
    trainer = RLlibTrainer(spec())
    updates = []
    result = trainer.train(on_update=lambda: updates.append((trainer.algo.iteration, len(trainer._episodes))))
    path = trainer.save(tmp_path_factory.mktemp("ckpt") / "ippo")
    state = {"path": path, "note": trainer.budget_note, "updates": updates, "result": result,
             "weights": module_weights(trainer)}
    trainer.close()
    return state


def test_on_update_follows_every_iteration_and_the_budget_note_says_how_many_episodes(saved):
    assert saved["updates"] == [(1, 4), (2, 8)]
    assert len(saved["result"].episodes) == 8
    assert saved["note"] == (
        "stop.episodes=6 trains 8 episodes: RLlib trains whole iterations of train_batch_size=200 env steps, 4 "
        "episodes of 50 steps (more if episodes end early); all are kept. train_batch_size=50 x a divisor of 6 "
        "trains exactly 6"
    )


def test_episodes_carry_the_learners_figures(saved):
    metrics = saved["result"].episodes[-1].metrics
    for module in ("room_a", "room_b"):
        for name in ("policy_loss", "vf_loss", "entropy", "total_loss"):
            assert np.isfinite(metrics[f"learner/{module}/{name}"])
    assert metrics["env_steps_per_s"] > 0
    first, last = saved["result"].episodes[0].metrics, saved["result"].episodes[-1].metrics
    assert first != last  # each episode has its own iteration's figures


def test_restore_continues_weights_counters_and_episodes(saved):
    trainer = RLlibTrainer(spec(stop={"episodes": 12}))
    try:
        trainer.restore(saved["path"], allow_stop_change=True)
        weights = module_weights(trainer)
        assert weights.keys() == saved["weights"].keys()
        for name, arrays in saved["weights"].items():
            assert all(np.array_equal(weights[name][key], arrays[key]) for key in arrays), name
        assert trainer.algo.iteration == 2
        result = trainer.train()
        assert trainer.algo.iteration == 3
        assert [record.episode for record in result.episodes] == list(range(1, 13))
        assert [r.team_return for r in result.episodes[:8]] == [r.team_return for r in saved["result"].episodes]
        assert result.episodes[-1].env_steps == 12 * 50 == result.env_steps
        lifetime = trainer.algo.metrics.peek(("env_runners", "num_env_steps_sampled_lifetime"))
        assert lifetime == 3 * SMALL["train_batch_size"]
        trainer.restore(saved["path"], allow_stop_change=True)  # into the algorithm that trained on: older state
        weights = module_weights(trainer)
        for name, arrays in saved["weights"].items():
            assert all(np.array_equal(weights[name][key], arrays[key]) for key in arrays), name
        assert trainer.algo.iteration == 2 and len(trainer.train().episodes) == 12
    finally:
        trainer.close()


def test_restore_refuses_another_spec_naming_every_field(saved):
    trainer = RLlibTrainer(spec(seed=5, stop={"episodes": 12}, hyperparams={**SMALL, "lr": 3e-4}))
    with pytest.raises(CheckpointError) as caught:
        trainer.restore(saved["path"])
    message = str(caught.value)
    for part in ("seed: saved 4, now 5", "stop.episodes: saved 6, now 12", "hyperparams.lr: saved <missing>, now "
                 "0.0003", "allow_stop_change"):
        assert part in message, message
    assert trainer.algo is None  # refused before building anything


def test_restore_reads_no_pickle(saved, tmp_path):
    path = Path(shutil.copytree(saved["path"], tmp_path / "ippo"))
    marker = tmp_path / "payload-ran"
    for file in path.rglob("*.pkl"):
        file.write_bytes(pickle.dumps(_Payload(marker)))
    trainer = RLlibTrainer(spec())
    try:
        trainer.restore(path)
        assert trainer.algo.iteration == 2 and not marker.exists()
    finally:
        trainer.close()


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return open, (str(self.marker), "w")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: (p / "trainer_state.npz").unlink(), r"trainer_state\.npz is corrupt or missing"),
        (lambda p: (p / "trainer_state.json").write_text("{"), r"trainer_state\.json is missing or corrupt"),
        (lambda p: (p / "trainer_state.json").write_text('{"format": "other"}'),
         r"trainer_state\.json is not a heron-rllib-trainer-state file of version 2"),
        (lambda p: (p / "heron_rllib.json").unlink(), r"is not an RLlib backend checkpoint: heron_rllib\.json"),
        (lambda p: _edit_state(p, lambda s: s["episodes"][0].update(team_return="x")),
         r"episodes\[0\]\.team_return must be a finite number, got 'x'"),
        (lambda p: _edit_state(p, lambda s: s["algorithm_state"].update(training_iteration={"__array__": "nope"})),
         r"refers to array 'nope', which the \.npz file lacks"),
        (lambda p: _edit_state(p, _rename_module),
         r"does not fit this trainer's algorithm: ValueError: its modules are \['room_a', 'shared_policy'\], this "
         r"algorithm's are \['room_a', 'room_b'\]"),
    ],
)
def test_a_damaged_checkpoint_is_a_checkpoint_error(saved, tmp_path, damage, message):
    path = Path(shutil.copytree(saved["path"], tmp_path / "ippo"))
    damage(path)
    with pytest.raises(CheckpointError, match=message):
        RLlibTrainer(spec()).restore(path)


def _rename_module(state) -> None:
    """The module room_b saved under another id (a MAPPO checkpoint of format 1 had one module, shared_policy)."""
    modules = state["algorithm_state"]["learner_group"]["learner"]["rl_module"]
    modules["shared_policy"] = modules.pop("room_b")


def _edit_state(path: Path, edit) -> None:
    file = path / "trainer_state.json"
    state = json.loads(file.read_text())
    edit(state)
    file.write_text(json.dumps(state))


def test_an_interrupted_iteration_is_rolled_back(saved, monkeypatch):
    trainer = RLlibTrainer(spec(stop={"episodes": 12}))
    try:
        trainer.restore(saved["path"], allow_stop_change=True)
        real_train = trainer.algo.train

        def train_then_interrupt():
            real_train()  # the iteration changes weights and counters, then Ctrl-C arrives
            raise KeyboardInterrupt

        monkeypatch.setattr(trainer.algo, "train", train_then_interrupt)
        result = trainer.train()
        assert result.interrupted and len(result.episodes) == 8
        assert trainer.algo.iteration == 2
        weights = module_weights(trainer)
        for name, arrays in saved["weights"].items():
            assert all(np.array_equal(weights[name][key], arrays[key]) for key in arrays), name
    finally:
        trainer.close()


def test_the_state_codec_keeps_types_and_refuses_objects():
    tree = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "step": np.int64(7), "lr": 1e-3, "on": True,
            "none": None, "pair": (1, "a"), "ids": {0: "x", 12: [np.float64(0.5)]}, "__odd": "key"}
    encoded, arrays = encode_tree(tree)
    back = decode_tree(json.loads(json.dumps(encoded)), arrays, "test")
    assert back.keys() == tree.keys() and back["pair"] == (1, "a") and back["ids"] == {0: "x", 12: [0.5]}
    assert back["w"].dtype == np.float32 and np.array_equal(back["w"], tree["w"])
    assert type(back["step"]) is np.int64 and type(back["ids"][12][0]) is np.float64
    with pytest.raises(BackendError, match=r"state/bad is a object, not data"):
        encode_tree({"bad": object()})
    with pytest.raises(BackendError, match=r"state/strings is an array of <U1"):
        encode_tree({"strings": np.array(["a"])})
