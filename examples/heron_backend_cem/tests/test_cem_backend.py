"""The example backend's own rules: the core's sharing groups, continuous actions only, readable checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
from heron_backend_cem.plugin import CEMTrainer, load_policies

from heron.core import Action, CheckpointError, ConfigError
from heron.demo_envs.thermostat import Thermostat, thermostat_config
from heron.training import ExperimentSpec


class Radiator(Thermostat):
    """A second kind of agent with the thermostat's spaces."""


class Switch(Thermostat):
    """A thermostat with three heating levels (a discrete action)."""

    def init_action(self, features) -> Action:
        return Action(self.agent_id).set_specs(ncats=[3])


def rooms(*classes: type) -> dict:
    config = thermostat_config(num_rooms=len(classes))
    for agent, cls in zip(config["agents"], classes):
        agent["agent_cls"] = cls
    return config


def test_mappo_shares_one_parameter_slice_per_kind_of_agent():
    trainer = CEMTrainer(ExperimentSpec(env=rooms(Thermostat, Radiator, Thermostat), algorithm="mappo"))
    assert trainer.groups == [["room_a", "room_c"], ["room_b"]]
    trainer.mean = np.arange(trainer.mean.size, dtype=float)  # two slices of (1 + 1) * 1 weights
    weights = {aid: policy.weights.tolist() for aid, policy in trainer.policies().items()}
    assert weights == {"room_a": [[0.0, 1.0]], "room_c": [[0.0, 1.0]], "room_b": [[2.0, 3.0]]}


def test_ippo_has_a_slice_per_agent():
    trainer = CEMTrainer(ExperimentSpec(env=rooms(Thermostat, Thermostat), algorithm="ippo"))
    assert trainer.groups == [["room_a"], ["room_b"]] and trainer.mean.size == 4


def test_discrete_actions_are_a_config_error_naming_the_backend():
    with pytest.raises(ConfigError, match=r"cem backend: agent 'room_b' acts with dim_c=0 ncats=\[3\]"):
        CEMTrainer(ExperimentSpec(env=rooms(Thermostat, Switch), algorithm="ippo"))


def test_a_corrupt_checkpoint_is_a_checkpoint_error(tmp_path):
    trainer = CEMTrainer(ExperimentSpec(algorithm="mappo", stop={"episodes": 2}))
    path = trainer.save(tmp_path / "run")
    assert set(load_policies(path)) == {"room_a", "room_b"}
    (path / "cem.json").write_text('{"groups": [["room_a"]]}')
    with pytest.raises(CheckpointError, match="cannot read cem checkpoint"):
        load_policies(path)
