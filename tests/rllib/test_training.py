"""IPPO/MAPPO configurations, the HERON PPO module, build-time errors, checkpoints and the CLI."""

from __future__ import annotations

import csv
import gc
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import ray
import torch
from click.testing import CliRunner
from ray.rllib.algorithms.algorithm import Algorithm
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.core.columns import Columns

from heron.adaptors.rllib import AGENT_INDEX_KEY, OBS_KEY, STATE_KEY, RLlibBasedHeronEnv
from heron.adaptors.rllib_runner import HeronEnvRunner
from heron.backends.rllib.configs import ippo_config, mappo_config
from heron.backends.rllib.learner import HeronPPOTorchLearner
from heron.backends.rllib.module import HeronPPOTorchRLModule
from heron.cli.main import cli
from heron.core.errors import ConfigError
from heron.runs.checkpoints import CheckpointSlot
from heron.training.experiment import ExperimentSpec, make_trainer

SMALL = {"train_batch_size": 200, "minibatch_size": 100, "num_epochs": 2}


def test_helpers_start_from_the_mappo_recipe(two_rooms):
    for config in (mappo_config(two_rooms), ippo_config(two_rooms)):
        assert (config.clip_param, config.lambda_, config.num_epochs, config.entropy_coeff) == (0.2, 0.95, 10, 0.01)
        assert config.use_kl_loss is False and config.grad_clip == 10.0 and config.lr == 1e-3
        assert config.learner_class is HeronPPOTorchLearner and config.env_runner_cls is HeronEnvRunner
        spec = next(iter(config.rl_module_spec.rl_module_specs.values()))
        assert spec.module_class is HeronPPOTorchRLModule
        assert spec.model_config["value_normalization"] and spec.model_config["obs_normalization"]
    assert set(mappo_config(two_rooms).policies) == {"Thermostat"}  # one module per agent kind
    assert set(ippo_config(two_rooms).policies) == {"room_a", "room_b"}


def test_mappo_actor_reads_its_observation_and_the_critic_the_global_state(two_rooms):
    env = RLlibBasedHeronEnv({**two_rooms, "global_state": True})
    torch.manual_seed(0)
    module = HeronPPOTorchRLModule(observation_space=env.observation_spaces["room_a"],
                                   action_space=env.action_spaces["room_a"], model_config={})
    obs = {OBS_KEY: torch.tensor([[0.2], [0.2]]), STATE_KEY: torch.tensor([[0.2, -1.0], [0.2, 1.0]]),
           AGENT_INDEX_KEY: torch.tensor([0, 0])}
    with torch.no_grad():
        actions = module.forward_inference({Columns.OBS: obs})[Columns.ACTION_DIST_INPUTS]
        values = module.compute_values({Columns.OBS: obs})
    torch.testing.assert_close(actions[0], actions[1], rtol=0, atol=1e-6)  # the actor ignores the other room
    assert abs(values[0] - values[1]) > 1e-3  # the critic sees it
    assert module.critic[0].in_features == 1 + 2 + 2  # own observation, state, agent one-hot
    assert module.actor[0].in_features == 1


def test_unknown_hyperparameters_and_unshareable_spaces_are_errors(two_rooms, agents):
    with pytest.raises(ConfigError, match="no_such_setting"):
        mappo_config(two_rooms, hyperparams={"no_such_setting": 1})
    one_kind = {**two_rooms, "agents": [agents.room("room_a"), agents.room("room_b", observation_mode="full")]}
    with pytest.raises(ConfigError, match=r"Thermostat agents, but their spaces differ: room_a .*room_b .*with ippo"):
        mappo_config(one_kind)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"num_env_runners": -1}, "hyperparams.num_env_runners must be a non-negative integer, got -1"),
        ({"num_envs_per_env_runner": 0}, "hyperparams.num_envs_per_env_runner must be a positive integer, got 0"),
        ({"train_batch_size": "500"}, "hyperparams.train_batch_size must be a positive integer, got '500'"),
        ({"minibatch_size": 12.5}, "hyperparams.minibatch_size must be a positive integer, got 12.5"),
        ({"vf_huber_delta": 0}, "hyperparams.vf_huber_delta must be a positive number, got 0"),
        ({"torch_threads": 0}, "hyperparams.torch_threads must be a positive integer, got 0"),
        ({"hidden_sizes": [64, True]}, r"model_config\['hidden_sizes'\] entry must be a positive integer, got True"),
        ({"obs_clip": -10}, r"model_config\['obs_clip'\] must be a positive number, got -10"),
        ({"initial_log_std": "low"}, r"model_config\['initial_log_std'\] must be a finite number, got 'low'"),
    ],
)
def test_bad_numeric_hyperparameters_are_errors_naming_them(two_rooms, settings, message):
    for make_config in (mappo_config, ippo_config):
        with pytest.raises(ConfigError, match=message):
            make_config(two_rooms, hyperparams=settings)
    with pytest.raises(ConfigError, match=r"^seed must be a non-negative integer, got -1$"):
        ippo_config(two_rooms, seed=-1)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"lr": "fast"}, r"^hyperparams\.lr must be a positive number, got 'fast'$"),
        ({"lr": 0}, r"^hyperparams\.lr must be a positive number, got 0$"),
        ({"gamma": 2}, r"^hyperparams\.gamma must be a number in \[0, 1\], got 2$"),
        ({"lambda_": "high"}, r"^hyperparams\.lambda_ must be a number in \[0, 1\], got 'high'$"),
        ({"clip_param": -0.2}, r"^hyperparams\.clip_param must be a positive number, got -0\.2$"),
        ({"entropy_coeff": -1}, r"^hyperparams\.entropy_coeff must be a non-negative number, got -1$"),
        ({"grad_clip": "none"}, r"^hyperparams\.grad_clip must be a positive number, got 'none'$"),
        ({"num_epochs": 0}, r"^hyperparams\.num_epochs must be a positive integer, got 0$"),
        ({"use_kl_loss": "yes"}, r"^hyperparams\.use_kl_loss must be true or false, got 'yes'$"),
        ({"minibatch_size": 300, "train_batch_size": 200},
         r"^hyperparams\.minibatch_size \(300\) must be at most hyperparams\.train_batch_size \(200\)"),
        ({"lr": [[0, 1e-3]]}, r"^backend 'rllib': invalid settings: Invalid `lr` \(\[\[0, 0\.001\]\]\) specified"),
        ({"num_env_runners": 3}, r"^hyperparams\.num_env_runners=3 needs 3 CPUs \(1 per env runner\), but the Ray "
                                 r"cluster has 2: lower num_env_runners"),  # RLlib would wait for them forever
    ],
)
def test_bad_hyperparameters_fail_when_the_trainer_is_made(settings, message):
    with pytest.raises(ConfigError, match=message):
        make_trainer(ExperimentSpec(algorithm="ippo", hyperparams=settings), "rllib")


def test_grad_clip_none_and_an_lr_schedule_are_accepted():
    trainer = make_trainer(
        ExperimentSpec(algorithm="mappo", hyperparams={"grad_clip": None, "lr": [[0, 1e-3], [1000, 1e-4]]}), "rllib"
    )
    assert trainer.config.grad_clip is None and trainer.config.lr == [[0, 1e-3], [1000, 1e-4]]


def test_heron_train_with_a_bad_setting_prints_one_line_and_writes_no_run_folder(tmp_path):
    result = CliRunner().invoke(cli, ["train", "--backend", "rllib", "--set", "lr=fast", "--out", str(tmp_path / "r")])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == ["Error: hyperparams.lr must be a positive number, got 'fast'"]
    assert not (tmp_path / "r").exists()


def test_a_policy_mapping_to_an_unknown_module_fails_at_build_time(two_rooms):
    config = (
        PPOConfig()
        .environment(env=RLlibBasedHeronEnv, env_config=two_rooms)
        .multi_agent(policies={"shared_policy"}, policy_mapping_fn=lambda aid, *a, **kw: f"{aid}_policy")
        .env_runners(env_runner_cls=HeronEnvRunner, num_env_runners=0)
    )
    with pytest.raises(ConfigError, match=r"maps agent 'room_a' to module 'room_a_policy'.*shared_policy"):
        config.build_algo()


@pytest.mark.parametrize("num_env_runners", [0, 2])
def test_a_bad_env_config_fails_at_build_time(two_rooms, num_env_runners):
    config = ippo_config(two_rooms, hyperparams={**SMALL, "num_env_runners": num_env_runners})
    config.environment(env_config={**two_rooms, "agent_ids": ["room_a", "room_q"]})
    with pytest.raises(ConfigError, match="agent_ids names unknown agent 'room_q'"):
        config.build_algo()
    gc.collect()  # the failed build's remote env runners go away with their handles
    deadline = time.monotonic() + 30
    while ray.available_resources().get("CPU", 0) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ray.available_resources().get("CPU", 0) == 2


def test_ippo_trains_on_discrete_mixed_and_terminating_agents(mixed_rooms, agents):
    mixed_rooms["agents"][0] = agents.room("room_a", agents.OutOfComfort)
    algo = ippo_config(mixed_rooms, seed=3, hyperparams=SMALL).build_algo()
    try:
        result = algo.train()
        steps = result["env_runners"]["num_agent_steps_sampled"]
        assert result["env_runners"]["num_episodes"] >= 1 and set(steps) == {"room_a", "room_b", "room_c"}
        episodes = algo.env_runner.sample(num_episodes=3, explore=True)
        lengths = [{aid: len(sa) for aid, sa in episode.agent_episodes.items()} for episode in episodes]
        assert any(length["room_a"] < length["room_b"] for length in lengths), lengths  # room_a stopped early
    finally:
        algo.stop()


def test_building_the_learner_sets_the_torch_threads_of_its_process(two_rooms):
    before = torch.get_num_threads()
    try:
        for threads, expected in (({"torch_threads": 2}, 2), ({}, 1)):  # the default: one thread
            ippo_config(two_rooms, hyperparams={**SMALL, **threads}).build_algo().stop()
            assert torch.get_num_threads() == expected
    finally:
        torch.set_num_threads(before)


def test_checkpoint_restore_continues_training(two_rooms, tmp_path):
    algo = mappo_config(two_rooms, seed=1, hyperparams=SMALL).build_algo()
    try:
        for _ in range(2):
            algo.train()
        algo.save_to_path(str(tmp_path))
        saved = algo.learner_group._learner.module["Thermostat"].get_state()
    finally:
        algo.stop()
    restored = Algorithm.from_checkpoint(str(tmp_path))
    try:
        state = restored.learner_group._learner.module["Thermostat"].get_state()
        assert set(state) == set(saved) and all(np.array_equal(state[key], saved[key]) for key in saved)
        assert int(state["obs_norm.count"]) > 0  # the running statistics came back too
        result = restored.train()
        assert restored.iteration == 3
        assert result["env_runners"]["num_env_steps_sampled_lifetime"] == 3 * SMALL["train_batch_size"]
    finally:
        restored.stop()


def test_heron_train_backend_rllib_writes_a_run(tmp_path):
    result = CliRunner().invoke(
        cli,
        ["train", "--backend", "rllib", "--algo", "mappo", "--episodes", "20", "--out", str(tmp_path),
         "--set", "train_batch_size=250", "--set", "num_epochs=2"],
    )
    assert result.exit_code == 0, result.output
    (run,) = tmp_path.iterdir()
    with open(run / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 20 and {row["backend"] for row in rows} == {"rllib"}
    checkpoint = CheckpointSlot(run, "mappo").latest()
    assert {"heron_rllib.json", "portable", "trainer_state.json", "trainer_state.npz", "rllib_checkpoint"} <= {
        entry.name for entry in checkpoint.iterdir()}
    assert (run / "learning_curve.png").is_file()


NOISE = re.compile(
    r"^\d{4}-\d\d-\d\d [\d:,]+\s+(INFO|WARNING)|Warning:|gputil|[Tt]oken authentication|Overriding environment",
    re.MULTILINE,
)
"""Ray's INFO/WARNING log lines, Python warnings and the start-up noise that ``heron train`` used to print."""


def test_heron_train_backend_rllib_repeats_its_returns_run_to_run_without_start_up_noise(tmp_path):
    """Two ``heron train`` processes with one seed give the same returns, and print no Ray noise.

    Without a fixed string-hash seed RLlib's order of the four agents, and so the returns, change from
    process to process (two hash seeds give different first returns). Training both algorithms in one
    process used to print gymnasium's "Overriding environment" warning, besides Ray's start-up lines.
    """
    env = {key: value for key, value in os.environ.items() if key != "PYTHONHASHSEED"}
    script = Path(sys.executable).with_name("heron")
    metrics = []
    for run in ("first", "second"):
        done = subprocess.run(
            [str(script), "train", "--backend", "rllib", "--algo", "all", "--episodes", "5", "--seed", "3",
             "--env-arg", "num_rooms=4", "--set", "train_batch_size=250", "--set", "minibatch_size=125",
             "--set", "num_epochs=2", "--out", str(tmp_path / run)],
            capture_output=True, text=True, env=env,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert not NOISE.search(done.stderr), done.stderr
        (run_dir,) = (tmp_path / run).iterdir()
        metrics.append((run_dir / "metrics.csv").read_text())
    assert len(metrics[0].splitlines()) == 11
    assert metrics[0] == metrics[1]
