"""MAPPO's modules per agent kind (or one for all agents), on the microgrid's feeders and generators."""

from __future__ import annotations

import pickle

import gymnasium as gym
import numpy as np
import pytest
from click.testing import CliRunner

from heron.adaptors.rllib import AGENT_INDEX_KEY, RLlibBasedHeronEnv
from heron.backends.rllib import load_policies
from heron.backends.rllib.configs import ippo_config, mappo_config
from heron.cli.main import cli
from heron.core.errors import ConfigError
from heron.demo_envs.microgrid import microgrid_config
from heron.evaluation.episodes import run_episode
from heron.runs.checkpoints import CheckpointSlot
from heron.training.algorithms import SHARED_GROUP
from heron.training.registry import make_env

TINY = {"train_batch_size": 48, "minibatch_size": 48, "num_epochs": 1}
"""Two 24-step microgrid episodes per iteration, one gradient step per module."""


def test_mappo_builds_one_module_per_kind_and_maps_each_agent_to_its_kind():
    config = mappo_config(microgrid_config())
    assert set(config.policies) == {"Feeder", "Generator"}
    mapping = pickle.loads(pickle.dumps(config.policy_mapping_fn))  # remote env runners get a copy
    assert {aid: mapping(aid, None) for aid in ("feeder_0", "feeder_1", "generator_0")} == {
        "feeder_0": "Feeder", "feeder_1": "Feeder", "generator_0": "Generator"}
    env = RLlibBasedHeronEnv(config.env_config)
    indices = {aid: env.observation_spaces[aid][AGENT_INDEX_KEY] for aid in env.possible_agents}
    assert indices == {"feeder_0": gym.spaces.Discrete(2), "feeder_1": gym.spaces.Discrete(2),
                       "generator_0": gym.spaces.Discrete(1)}  # the critic's one-hot counts the agents of its kind
    observations, _ = env.reset(seed=0)
    assert [int(observations[aid][AGENT_INDEX_KEY]) for aid in ("feeder_0", "feeder_1", "generator_0")] == [0, 1, 0]


def test_mappo_trains_the_microgrid_and_its_run_folder_evaluates(tmp_path):
    args = ["train", "--backend", "rllib", "--env", "microgrid", "--algo", "mappo", "--episodes", "4",
            "--out", str(tmp_path)] + [item for key, value in TINY.items() for item in ("--set", f"{key}={value}")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    (run,) = tmp_path.iterdir()
    policies = load_policies(CheckpointSlot(run, "mappo").latest())
    env = make_env("microgrid")
    assert set(policies) == set(env.possible_agents)
    returns = run_episode(env, policies, seed=5)
    assert set(returns) == set(env.possible_agents) and np.isfinite(list(returns.values())).all()
    for extra in ([], ["--event-driven"]):
        evaluated = CliRunner().invoke(cli, ["evaluate", str(run), "--episodes", "2", *extra])
        assert evaluated.exit_code == 0, evaluated.output
        assert "mappo" in evaluated.output


def test_policy_sharing_all_builds_one_module_for_alike_agents(two_rooms):
    config = mappo_config(two_rooms, hyperparams={"policy_sharing": "all"})
    assert set(config.policies) == {SHARED_GROUP}
    assert {config.policy_mapping_fn(aid, None) for aid in ("room_a", "room_b")} == {SHARED_GROUP}


def test_policy_sharing_all_refuses_agents_whose_spaces_differ():
    with pytest.raises(ConfigError, match=(
        r"^backend 'rllib': hyperparams.policy_sharing='all' .* cannot share one module among agents whose spaces "
        r"differ \(Generator observes Box\(.*\(6,\).* and acts in Discrete\(3\); Feeder observes .*\(8,\).* and acts "
        r"in Box\(-1.0, 1.0, \(1,\), float32\)\); use policy_sharing='per_kind' .* or ippo$")):
        mappo_config(microgrid_config(), hyperparams={"policy_sharing": "all"})


def test_heron_train_prints_the_sharing_error_in_one_line(tmp_path):
    result = CliRunner().invoke(cli, ["train", "--backend", "rllib", "--env", "microgrid", "--algo", "mappo",
                                      "--set", "policy_sharing=all", "--out", str(tmp_path / "r")])
    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Error: backend 'rllib': hyperparams.policy_sharing='all'")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    ("sharing", "message"),
    [("per_agent", r"mappo shares per_kind; it cannot share 'per_agent'"), ("everyone", "unknown policy sharing")],
)
def test_mappo_refuses_other_sharings(two_rooms, sharing, message):
    with pytest.raises(ConfigError, match=message):
        mappo_config(two_rooms, hyperparams={"policy_sharing": sharing})


@pytest.mark.parametrize("sharing", ["per_kind", "all"])
def test_ippo_refuses_sharing_a_module(two_rooms, sharing):
    expected = (rf"^hyperparams.policy_sharing='{sharing}': backend 'rllib': ippo shares per_agent; it cannot share "
                rf"'{sharing}' \(expected one of \['per_agent'\]\)$")
    with pytest.raises(ConfigError, match=expected):
        ippo_config(two_rooms, hyperparams={"policy_sharing": sharing})


def test_ippo_takes_its_own_sharing_as_the_manual_backend_does(two_rooms):
    config = ippo_config(two_rooms, hyperparams={"policy_sharing": "per_agent"})
    assert sorted(config.policies) == ["room_a", "room_b"]


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        (["feeder_0"], r"must be a dict \{group: \[agent ids\]\} with non-empty lists, got \['feeder_0'\]"),
        ({"Feeder": []}, r"must be a dict \{group: \[agent ids\]\} with non-empty lists, got \{'Feeder': \[\]\}"),
        ({"Feeder": ["feeder_0", "feeder_1", "feeder_0_battery_0"], "Generator": ["generator_0"]},
         r"\['Feeder'\] names 'feeder_0_battery_0', which is not an acting agent; the acting agents are "),
        ({"Feeder": ["feeder_0", "feeder_1"], "Generator": ["generator_0", "feeder_1"]},
         r"puts agent 'feeder_1' in more than one group"),
        ({"Feeder": ["feeder_0", "feeder_1"]}, r"leaves out the acting agent\(s\) \['generator_0'\]"),
    ],
)
def test_bad_agent_groups_are_config_errors(groups, message):
    with pytest.raises(ConfigError, match=r"^env_config\['agent_groups'\].*" + message):
        RLlibBasedHeronEnv({**microgrid_config(), "global_state": True, "agent_groups": groups})
