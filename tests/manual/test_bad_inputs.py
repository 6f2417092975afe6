"""Bad specs and hyper-parameters raise exceptions with precise messages from Python."""

from __future__ import annotations

import pytest

from heron.backends.manual import ManualConfig, ManualTrainer
from heron.core import BackendError, ConfigError
from heron.demo_envs.thermostat import Thermostat
from heron.training import ExperimentSpec, make_trainer

from .manual_fixtures import variant_config


def test_unknown_hyperparams_list_the_known_ones():
    with pytest.raises(ConfigError) as info:
        ManualTrainer(ExperimentSpec(hyperparams={"learning_rate": 0.1, "lr": 0.1}))
    message = str(info.value)
    assert "unknown hyperparams ['learning_rate']" in message
    for known in ("num_envs", "hidden_sizes", "lr", "gamma", "noise_start", "centralized_critic"):
        assert f"'{known}'" in message


@pytest.mark.parametrize(
    ("hyperparams", "message"),
    [
        ({"lr": 0}, "hyperparams.lr must be a positive number, got 0"),
        ({"gamma": 1.5}, r"hyperparams.gamma must be a number in \[0, 1\], got 1.5"),
        ({"num_envs": 0}, "hyperparams.num_envs must be a positive integer, got 0"),
        ({"num_envs": 2.5}, "hyperparams.num_envs must be a positive integer, got 2.5"),
        ({"num_envs": True}, "hyperparams.num_envs must be a positive integer, got True"),
        ({"lr": float("inf")}, "hyperparams.lr must be a positive number, got inf"),
        ({"gamma": float("nan")}, r"hyperparams.gamma must be a number in \[0, 1\], got nan"),
        ({"critic_lr": "0.01"}, "hyperparams.critic_lr must be a positive number, got '0.01'"),
        ({"hidden_sizes": "32"}, "hidden_sizes must be a list of positive integers, got '32'"),
        ({"hidden_sizes": [32, 0]}, "hidden_sizes entry must be a positive integer, got 0"),
        ({"activation": "gelu"}, "activation 'gelu' is unknown; expected one of"),
        ({"normalize_obs": "yes"}, "normalize_obs must be true or false, got 'yes'"),
        ({"centralized_critic": 1}, "centralized_critic must be true, false or null, got 1"),
    ],
)
def test_bad_hyperparam_values(hyperparams, message):
    with pytest.raises(ConfigError, match=message):
        ManualConfig.from_hyperparams(hyperparams, "mappo")


@pytest.mark.parametrize("key", ["centralized_critic", "agent_id_input"])
def test_mappo_only_settings_are_rejected_for_ippo(key):
    with pytest.raises(ConfigError, match=f"{key} applies to mappo only"):
        ManualConfig.from_hyperparams({key: True}, "ippo")


def test_centralized_critic_defaults_by_algorithm():
    assert ManualConfig.from_hyperparams({}, "mappo").centralized_critic is True
    assert ManualConfig.from_hyperparams({}, "ippo").centralized_critic is False
    assert ManualConfig.from_hyperparams({"centralized_critic": False}, "mappo").centralized_critic is False


def test_unknown_algorithm_env_backend_and_negative_episodes():
    with pytest.raises(ConfigError, match=r"unknown algorithm 'ppo'; expected one of \['ippo', 'mappo'\]"):
        ExperimentSpec(algorithm="ppo")
    with pytest.raises(ConfigError, match=r"stop.episodes must be a positive integer, got -3"):
        ExperimentSpec(stop={"episodes": -3})
    with pytest.raises(ConfigError, match="unknown environment 'nope'"):
        make_trainer(ExperimentSpec(env="nope"), "manual")
    with pytest.raises(BackendError, match="nope"):
        make_trainer(ExperimentSpec(), "nope")


def test_mappo_needs_the_same_spaces_for_agents_sharing_a_policy():
    config = variant_config(Thermostat, modes=["local", "full"])
    with pytest.raises(ConfigError) as info:
        ManualTrainer(ExperimentSpec(env=config, algorithm="mappo"))
    assert str(info.value).startswith("mappo shares one policy among the Thermostat agents, but their spaces differ")
    assert "room_a observes 1 value(s) in mode 'local' and acts with dim_c=1" in str(info.value)
    assert "room_b observes 3 value(s) in mode 'full'" in str(info.value)
    ManualTrainer(ExperimentSpec(env=config, algorithm="ippo"))  # separate policies: fine
