"""MAPPO's ``policy_sharing="all"``: one policy for every acting agent, kinds with their own first and last layer."""

from __future__ import annotations

import numpy as np
import pytest

from heron.backends.manual import ManualTrainer
from heron.core import CheckpointError, ConfigError
from heron.portable.checkpoint import load_policies
from heron.portable.mlp import MLPNetwork
from heron.training import SHARED_GROUP, ExperimentSpec, make_env
from heron.training.algorithms import agent_kinds, sharing_groups

MICROGRID = {"env": "microgrid", "env_kwargs": {"num_coordinators": 2, "num_generators": 2, "max_steps": 8}}


def spec(algorithm="mappo", episodes=8, **overrides):
    return ExperimentSpec(**{"algorithm": algorithm, "seed": 5, "stop": {"episodes": episodes}, **overrides})


def shared_microgrid(episodes=8, **hyperparams):
    return spec(episodes=episodes, **MICROGRID, hyperparams={"policy_sharing": "all", **hyperparams})


def all_arrays(trainer):
    return [w for network in trainer.checkpoint().networks.values() for w in network.weights + network.biases]


def test_all_trains_one_policy_whose_kinds_tie_the_hidden_layers_and_keep_their_own_first_and_last():
    trainer = ManualTrainer(shared_microgrid())
    before = trainer.checkpoint().networks
    result = trainer.train()
    assert len(result.episodes) == 8 and all(np.isfinite(result.returns))
    assert [learner.name for learner in trainer.learners] == [SHARED_GROUP]
    assert {"shared/policy_loss", "shared/value_loss", "shared/grad_norm"} <= set(result.episodes[-1].metrics)
    checkpoint = trainer.checkpoint()
    kinds = agent_kinds(make_env("microgrid", **MICROGRID["env_kwargs"]))
    assert set(checkpoint.networks) == set(kinds) == {"Feeder", "Generator"}
    assert dict(checkpoint.agents) == {aid: kind for kind, ids in kinds.items() for aid in ids}
    feeder, generator = checkpoint.networks["Feeder"], checkpoint.networks["Generator"]
    assert isinstance(feeder, MLPNetwork) and feeder.obs_dim != generator.obs_dim
    assert feeder.head.dim_c == 1 and generator.head.ncats == (3,)
    np.testing.assert_array_equal(feeder.weights[1], generator.weights[1])  # the tied (shared) hidden layer
    np.testing.assert_array_equal(feeder.biases[1], generator.biases[1])
    assert not np.array_equal(feeder.weights[1], before["Feeder"].weights[1])  # and it was trained
    assert feeder.weights[0].shape != generator.weights[0].shape  # own input layers
    assert feeder.weights[-1].shape != generator.weights[-1].shape  # own output layers
    critic = trainer.learners[0].critic.layers[0]  # one centralized critic: env.state() + index among all agents
    assert critic.embedding.shape[1] == len(trainer.agent_ids)


def test_all_saves_per_kind_portable_policies_and_resumes_bitwise(tmp_path):
    expected = ManualTrainer(shared_microgrid(episodes=12)).train().returns
    first = ManualTrainer(shared_microgrid(episodes=12))

    def stop(record):
        if record.episode == 5:
            raise KeyboardInterrupt

    assert first.train(progress=stop).interrupted
    first.save(tmp_path / "ckpt")
    policies = load_policies(tmp_path / "ckpt")
    assert set(policies) == set(first.agent_ids)
    obs = make_env("microgrid", **MICROGRID["env_kwargs"]).reset(seed=0)[0]
    for aid, policy in policies.items():
        policy.forward(obs[aid])  # runs with heron-core alone

    resumed = ManualTrainer(shared_microgrid(episodes=12))
    resumed.restore(tmp_path / "ckpt")
    assert resumed.train().returns == expected
    with pytest.raises(CheckpointError, match=r"another spec: hyperparams.policy_sharing: saved 'all', now <missing>$"):
        ManualTrainer(spec(episodes=12, **MICROGRID)).restore(tmp_path / "ckpt")


@pytest.mark.parametrize("agent_id_input", [False, True])
def test_all_with_one_kind_equals_per_kind_bitwise(agent_id_input):
    runs = {}
    for sharing in ("per_kind", "all"):
        trainer = ManualTrainer(spec(episodes=12, env_kwargs={"num_rooms": 3},
                                     hyperparams={"policy_sharing": sharing, "agent_id_input": agent_id_input}))
        runs[sharing] = (trainer.train().returns, all_arrays(trainer), dict(trainer.checkpoint().agents))
    assert runs["all"][0] == runs["per_kind"][0]
    assert runs["all"][2] == runs["per_kind"][2] == dict.fromkeys(("room_a", "room_b", "room_c"), "Thermostat")
    for a, b in zip(runs["all"][1], runs["per_kind"][1], strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("algorithm", "sharing"), [("ippo", "all"), ("mappo", "per_agent"), ("mappo", "everyone")])
def test_a_policy_sharing_the_algorithm_does_not_allow_is_refused_with_the_cores_message(algorithm, sharing):
    env = make_env("microgrid", **MICROGRID["env_kwargs"])
    with pytest.raises(ConfigError) as core:
        sharing_groups(env, algorithm, "manual", sharing=sharing)
    with pytest.raises(ConfigError) as info:
        ManualTrainer(spec(algorithm, **MICROGRID, hyperparams={"policy_sharing": sharing}))
    assert str(info.value) == f"hyperparams.policy_sharing={sharing!r}: {core.value}"
    assert "ippo shares per_agent; it cannot share 'all'" in str(info.value) or algorithm == "mappo"


@pytest.mark.parametrize(
    ("hyperparams", "message"),
    [
        ({"policy_sharing": 1}, "hyperparams.policy_sharing must be a string or null, got 1"),
        ({"policy_sharing": "all", "centralized_critic": False},
         "hyperparams.policy_sharing 'all' trains one centralized critic for every agent; it cannot be combined "
         "with centralized_critic=false"),
    ],
)
def test_bad_policy_sharing_values_are_refused(hyperparams, message):
    with pytest.raises(ConfigError) as info:
        ManualTrainer(spec(**MICROGRID, hyperparams=hyperparams))
    assert str(info.value) == message


def test_all_over_several_kinds_needs_two_hidden_layers():
    with pytest.raises(ConfigError, match=r"^hyperparams.hidden_sizes must have at least 2 entries with policy_sharing "
                                          r"'all' and several kinds of agents \(Generator, Feeder\).*got \[16\]$"):
        ManualTrainer(shared_microgrid(hidden_sizes=[16]))
    one_kind = ManualTrainer(spec(hyperparams={"policy_sharing": "all", "hidden_sizes": [16]}))
    assert one_kind.train().returns  # one kind: no layers to share, a plain network


def test_a_checkpoint_array_of_another_shape_is_refused():
    trainer = ManualTrainer(shared_microgrid())
    learner = trainer.learners[0]
    state = learner.state()
    state["actor_0"] = np.zeros((2, 2))
    with pytest.raises(CheckpointError, match=r"^trainer state: policy 'shared' array 'actor_0' has shape \(2, 2\), "
                                              r"expected \(\d+, \d+\) \(were the hyperparams or the env changed\?\)$"):
        learner.load_state(state)
