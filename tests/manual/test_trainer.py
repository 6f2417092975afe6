"""The manual trainer: policy sharing, interrupts, resuming, determinism, discrete actions, deployment."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from heron.backends.manual import ManualTrainer
from heron.core import CheckpointError
from heron.envs import build_env
from heron.evaluation.episodes import evaluate_policies
from heron.portable.checkpoint import load_checkpoint, load_policies, save_checkpoint
from heron.portable.mlp import MLPPolicy
from heron.training import ExperimentSpec, make_env, make_trainer, summarize_returns

from .manual_fixtures import DiscreteThermostat, variant_config

BUDGET = {"episodes": 40}


def spec(algorithm="ippo", **overrides):
    return ExperimentSpec(**{"algorithm": algorithm, "seed": 3, "stop": BUDGET, **overrides})


def weights(trainer):
    return [w for network in trainer.checkpoint().networks.values() for w in network.weights + network.biases]


# ---------------------------------------------------------------- policies
def test_ippo_has_one_policy_per_agent_and_mappo_one_shared_policy():
    ippo = ManualTrainer(spec("ippo", env_kwargs={"num_rooms": 3}))
    assert dict(ippo.checkpoint().agents) == {"room_a": "room_a", "room_b": "room_b", "room_c": "room_c"}
    mappo = ManualTrainer(spec("mappo", env_kwargs={"num_rooms": 3}))
    assert set(mappo.checkpoint().agents.values()) == {"Thermostat"}
    assert mappo.config.centralized_critic and not ippo.config.centralized_critic
    assert mappo.checkpoint().networks["Thermostat"].agent_ids is None


def test_mappo_gives_the_actor_the_agent_id_when_asked():
    trainer = ManualTrainer(spec("mappo", hyperparams={"agent_id_input": True}))
    network = trainer.checkpoint().networks["Thermostat"]
    assert network.agent_ids == ("room_a", "room_b") and network.input_size == 3
    trainer.train()
    policies = trainer.policies()
    obs = make_env("thermostat").reset(seed=0)[0]["room_a"]
    assert isinstance(policies["room_a"], MLPPolicy) and policies["room_a"].network is policies["room_b"].network
    assert policies["room_a"].forward(obs).c != policies["room_b"].forward(obs).c  # same input, different ids


def test_policies_are_snapshots_that_later_training_does_not_change():
    trainer = ManualTrainer(spec())
    before = trainer.policies()
    env = make_env("thermostat")
    returns = evaluate_policies(env, before, episodes=2, seed=1)
    trainer.train()
    assert evaluate_policies(env, before, episodes=2, seed=1) == returns
    assert evaluate_policies(env, trainer.policies(), episodes=2, seed=1) != returns


def test_without_observation_normalisation_the_network_reads_raw_observations(tmp_path):
    trainer = ManualTrainer(spec("ippo", hyperparams={"normalize_obs": False, "activation": "relu"}))
    trainer.train()
    network = trainer.checkpoint().networks["room_a"]
    assert network.obs_mean is None and network.hidden_activation == "relu"
    path = trainer.save(tmp_path / "raw")
    env = make_env("thermostat")
    assert evaluate_policies(env, load_policies(path), 3, 2) == evaluate_policies(env, trainer.policies(), 3, 2)


# --------------------------------------------------------- determinism
def test_same_seed_same_run_and_different_seed_different_run():
    first, again = ManualTrainer(spec("mappo")), ManualTrainer(spec("mappo"))
    assert first.train().returns == again.train().returns
    for a, b in zip(weights(first), weights(again)):
        np.testing.assert_array_equal(a, b)
    assert ManualTrainer(spec("mappo", seed=4)).train().returns != first.train().returns


def test_stop_criteria_env_steps_and_target_return():
    by_steps = ManualTrainer(spec(stop={"env_steps": 420})).train()
    assert by_steps.env_steps == 450 and len(by_steps.episodes) == 9  # whole episodes, the last batch trimmed
    target = ManualTrainer(spec(stop={"episodes": 300, "target_return": -200.0})).train()
    assert len(target.episodes) < 300
    assert np.mean(target.returns[-20:]) >= -200.0


# ------------------------------------------------- interrupts and resume
@pytest.mark.parametrize("algorithm", ["ippo", "mappo"])
def test_resuming_from_a_checkpoint_continues_exactly(tmp_path, algorithm):
    full = ManualTrainer(spec(algorithm))
    expected = full.train().returns

    def stop_at_20(record):
        if record.episode == 18:
            raise KeyboardInterrupt

    first = ManualTrainer(spec(algorithm))
    interrupted = first.train(progress=stop_at_20)
    assert interrupted.interrupted and len(interrupted.episodes) == 20  # the batch of episodes 17-20 completed
    first.save(tmp_path / "ckpt")

    resumed = ManualTrainer(spec(algorithm))
    resumed.restore(tmp_path / "ckpt")
    result = resumed.train()
    assert not result.interrupted and result.returns == expected
    assert [r.episode for r in result.episodes] == list(range(1, 41))
    for a, b in zip(weights(resumed), weights(full)):
        np.testing.assert_array_equal(a, b)


def test_an_interrupt_inside_an_iteration_rolls_it_back():
    expected = ManualTrainer(spec("mappo")).train().returns
    trainer = ManualTrainer(spec("mappo"))
    optimizer = trainer.learners[0].critic_optimizer
    calls = []

    def interrupted_step(grads):
        calls.append(1)
        if len(calls) == 7:  # the first critic step of iteration 4, after its actor step
            raise KeyboardInterrupt
        type(optimizer).step(optimizer, grads)

    optimizer.step = interrupted_step
    result = trainer.train()
    assert result.interrupted and len(result.episodes) == 12
    del optimizer.step
    assert trainer.train().returns == expected


def test_restore_rejects_mismatched_checkpoints(tmp_path):
    trainer = ManualTrainer(spec("ippo"))
    trainer.save(tmp_path / "ippo")
    with pytest.raises(CheckpointError, match=r"another spec: env_kwargs.num_rooms: saved <missing>, now 3$"):
        ManualTrainer(spec("ippo", env_kwargs={"num_rooms": 3})).restore(tmp_path / "ippo")
    with pytest.raises(CheckpointError, match=r"algorithm: saved 'ippo', now 'mappo'; "
                                              r"hyperparams.centralized_critic: saved <missing>, now False$"):
        ManualTrainer(spec("mappo", hyperparams={"centralized_critic": False})).restore(tmp_path / "ippo")
    save_checkpoint(tmp_path / "policies_only", trainer.checkpoint())
    with pytest.raises(CheckpointError, match="holds policies but no manual trainer state"):
        ManualTrainer(spec("ippo")).restore(tmp_path / "policies_only")
    state_file = tmp_path / "ippo" / "trainer_state.json"
    state = json.loads(state_file.read_text())
    state["spec"]["hyperparams"] = {"hidden_sizes": [16]}  # a state file whose arrays contradict its spec
    state_file.write_text(json.dumps(state))
    with pytest.raises(CheckpointError, match=r"array 'actor_0' has shape \(32, 1\), expected \(16, 1\)"):
        ManualTrainer(spec("ippo", hyperparams={"hidden_sizes": [16]})).restore(tmp_path / "ippo")
    state_file.write_text("{")
    with pytest.raises(CheckpointError, match=r"trainer_state.json is corrupt"):
        ManualTrainer(spec("ippo")).restore(tmp_path / "ippo")


def test_restore_names_every_field_of_the_spec_that_differs(tmp_path):
    ManualTrainer(spec("ippo")).save(tmp_path / "ippo")
    changed = spec("ippo", seed=4, hyperparams={"lr": 0.02}, stop={"episodes": 60})
    with pytest.raises(CheckpointError) as error:
        ManualTrainer(changed).restore(tmp_path / "ippo")
    message = str(error.value)
    assert message.startswith(f"checkpoint {tmp_path / 'ippo'} was trained with another spec: ")
    assert "seed: saved 3, now 4; stop.episodes: saved 40, now 60; hyperparams.lr: saved <missing>, now 0.02" \
        in message
    assert "the budget may change only with allow_stop_change=True" in message
    with pytest.raises(CheckpointError, match=r"another spec: seed: saved 3, now 4; hyperparams.lr: saved <missing>, "
                                              r"now 0.02$"):
        ManualTrainer(changed).restore(tmp_path / "ippo", allow_stop_change=True)  # the budget alone may change


def test_restore_with_a_new_budget_trains_on_to_it(tmp_path):
    first = ManualTrainer(spec("ippo"))
    first.train()
    first.save(tmp_path / "ippo")
    longer = ManualTrainer(spec("ippo", stop={"episodes": 60}))
    with pytest.raises(CheckpointError, match=r"stop\.episodes: saved 40, now 60"):
        longer.restore(tmp_path / "ippo")
    assert longer.history == []  # a refused restore changes nothing
    longer.restore(tmp_path / "ippo", allow_stop_change=True)
    result = longer.train()
    assert [r.episode for r in result.episodes] == list(range(1, 61)) and result.returns[:40] == first.train().returns


def test_on_update_follows_each_update_after_its_episodes_and_records_carry_its_figures():
    events = []
    trainer = ManualTrainer(spec("ippo", stop={"episodes": 10}))
    result = trainer.train(progress=lambda record: events.append(record), on_update=lambda: events.append("update"))
    assert [e if e == "update" else e.episode for e in events] == [1, 2, 3, 4, "update", 5, 6, 7, 8, "update", 9, 10,
                                                                  "update"]
    keys = {"exploration_sigma"} | {f"{a}/{k}" for a in ("room_a", "room_b")
                                    for k in ("policy_loss", "value_loss", "grad_norm")}
    assert all(set(record.metrics) == keys for record in result.episodes)
    assert all(np.isfinite(list(record.metrics.values())).all() for record in result.episodes)
    sigmas = [result.episodes[i].metrics["exploration_sigma"] for i in (0, 4, 8)]
    assert sigmas == [trainer.config.noise_start, *sigmas[1:]] and sigmas[0] > sigmas[1] > sigmas[2]
    assert result.episodes[0].metrics == result.episodes[3].metrics != result.episodes[4].metrics  # one update
    mappo = ManualTrainer(spec("mappo", stop={"episodes": 4})).train().episodes[0].metrics
    assert set(mappo) == {"exploration_sigma"} | {f"Thermostat/{k}" for k in ("policy_loss", "value_loss", "grad_norm")}


def test_an_interrupt_in_on_update_keeps_the_finished_update(tmp_path):
    expected = ManualTrainer(spec("mappo")).train().returns
    calls = []

    def interrupt_third_update():
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt

    trainer = ManualTrainer(spec("mappo"))
    result = trainer.train(on_update=interrupt_third_update)
    assert result.interrupted and len(result.episodes) == 12
    trainer.save(tmp_path / "ckpt")
    resumed = ManualTrainer(spec("mappo"))
    resumed.restore(tmp_path / "ckpt")
    assert resumed.train().returns == expected


_PCG64 = {"bit_generator": "PCG64", "has_uint32": 0, "uinteger": 0}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("rng", {"bit_generator": "MT19937"}, r"trainer_state.json: 'rng' must be the state of a PCG64 generator "
                                              r"\(an object with keys .*\), got \{'bit_generator': 'MT19937'\}"),
        ("rng", None, r"trainer_state.json: 'rng' must be the state of a PCG64 generator \(.*\), got None"),
        ("rng", {**_PCG64, "state": {"state": -1, "inc": 1}}, r"integers in \[0, 2\*\*128\)\), got"),
        ("rng", {**_PCG64, "state": {"state": 2**200, "inc": 1}}, r"integers in \[0, 2\*\*128\)\), got"),
        ("rng", {**_PCG64, "state": {"state": 1.5, "inc": 1}}, r"integers in \[0, 2\*\*128\)\), got"),
        ("rng", {**_PCG64, "state": {"state": 1, "inc": 1}, "has_uint32": 5}, "has_uint32 must be 0 or 1"),
        ("rng", {**_PCG64, "state": {"state": 1, "inc": 1}, "uinteger": -3}, "uinteger an integer in"),
        ("env_steps", -5, "trainer_state.json: env_steps must be a non-negative integer, got -5"),
        ("env_steps", "many", "trainer_state.json: env_steps must be a non-negative integer, got 'many'"),
        ("spec", ["ippo"], r"the saved spec must be an experiment spec object, got \['ippo'\]"),
    ],
)
def test_restore_reports_a_corrupt_trainer_state_naming_the_file_and_the_entry(tmp_path, key, value, message):
    ManualTrainer(spec("ippo")).save(tmp_path / "ippo")
    state_file = tmp_path / "ippo" / "trainer_state.json"
    state_file.write_text(json.dumps({**json.loads(state_file.read_text()), key: value}))
    with pytest.raises(CheckpointError, match=message):
        ManualTrainer(spec("ippo")).restore(tmp_path / "ippo")


# -------------------------------------------------------- other actions
def test_discrete_actions_learn_and_act_by_argmax(tmp_path):
    config = variant_config(DiscreteThermostat)
    trainer = make_trainer(ExperimentSpec(env=config, algorithm="ippo", seed=0, stop={"episodes": 100}), "manual")
    summary = summarize_returns(trainer.train().returns)
    assert summary.last - summary.first >= 200  # measured: about -590 -> -250
    env = build_env(config)
    action = trainer.policies()["room_a"].forward(env.reset(seed=0)[0]["room_a"])
    assert action.dim_c == 0 and action.d[0] in (0, 1, 2)
    path = trainer.save(tmp_path / "discrete")
    assert evaluate_policies(env, load_policies(path), 3, 9) == evaluate_policies(env, trainer.policies(), 3, 9)


# ------------------------------------------------------------ deployment
def test_saved_policies_run_with_heron_core_alone(tmp_path):
    trainer = ManualTrainer(spec("mappo"))
    trainer.train()
    path = trainer.save(tmp_path / "mappo")
    assert load_checkpoint(path).info["backend"] == "manual"
    code = (
        "import sys; sys.modules['heron.backends'] = None\n"  # the backend cannot be imported
        "from heron.portable.checkpoint import load_policies\n"
        "from heron.evaluation.episodes import evaluate_policies\n"
        "from heron.training import make_env\n"
        "print(repr(evaluate_policies(make_env('thermostat'), load_policies(sys.argv[1]), 3, 7)))\n"
    )
    output = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    assert eval(output.stdout) == evaluate_policies(make_env("thermostat"), trainer.policies(), 3, 7)
