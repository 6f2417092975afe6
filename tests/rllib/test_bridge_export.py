"""RLlibModuleBridge and the portable export reproduce what the algorithm itself sends to the env."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys

import numpy as np
import pytest
import tree
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.connectors.env_to_module import MeanStdFilter

from heron.adaptors.rllib import OBS_KEY, RLlibBasedHeronEnv
from heron.adaptors.rllib_module_bridge import RLlibModuleBridge, policies_from_algorithm, policies_from_checkpoint
from heron.backends.rllib.configs import ippo_config, mappo_config
from heron.backends.rllib.export import export_bridges, export_policies
from heron.core.errors import BackendError, CheckpointError
from heron.envs import build_env
from heron.evaluation.episodes import evaluate_policies
from heron.portable.checkpoint import load_policies

SMALL = {"train_batch_size": 200, "minibatch_size": 100, "num_epochs": 2}


class RecordingEnv(RLlibBasedHeronEnv):
    """Keeps every (observation, action) pair the algorithm's env runner produced."""

    log: list[tuple[dict, dict]] = []

    def reset(self, **kwargs):
        observations, infos = super().reset(**kwargs)
        self._last = observations
        return observations, infos

    def step(self, action_dict):
        RecordingEnv.log.append((self._last, copy.deepcopy(action_dict)))
        result = super().step(action_dict)
        self._last = result[0]
        return result


def deterministic_actions(algo, episodes: int = 1) -> list[tuple[dict, dict]]:
    """What the algorithm's local env runner sends to the env without exploration."""
    RecordingEnv.log.clear()
    algo.env_runner.sample(num_episodes=episodes, explore=False)
    return list(RecordingEnv.log)


def vector(obs):
    return obs[OBS_KEY] if isinstance(obs, dict) else obs


def assert_same_action(expected, got, atol):
    tree.map_structure(lambda a, b: np.testing.assert_allclose(np.asarray(b, float), np.asarray(a, float), atol=atol),
                       expected, got)


def check_bridge_and_export(algo, tmp_path, atol_export=1e-5):
    bridges = policies_from_algorithm(algo)
    exported = load_policies(export_bridges(bridges, tmp_path / "portable"))
    records = deterministic_actions(algo)
    assert len(records) >= 20
    for observations, actions in records:
        for aid, action in actions.items():
            obs = vector(observations[aid])
            assert_same_action(action, bridges[aid].space_action(obs), atol=1e-6)
            flat = bridges[aid].action_spec.copy().set_values(action).vector()
            np.testing.assert_allclose(exported[aid].forward(obs).vector(), flat, atol=atol_export)


def build(config, iterations=1):
    algo = config.build_algo()
    for _ in range(iterations):
        algo.train()
    return algo


def test_mappo_bridge_and_export_match_the_algorithm(two_rooms, tmp_path):
    algo = build(mappo_config(two_rooms, seed=2, hyperparams=SMALL).environment(env=RecordingEnv), iterations=2)
    try:
        check_bridge_and_export(algo, tmp_path)
    finally:
        algo.stop()


def test_ippo_bridge_and_export_match_with_discrete_and_mixed_actions(mixed_rooms, tmp_path):
    algo = build(ippo_config(mixed_rooms, seed=2, hyperparams=SMALL).environment(env=RecordingEnv))
    try:
        check_bridge_and_export(algo, tmp_path)
    finally:
        algo.stop()


def default_ppo(env_config, **env_runners) -> PPOConfig:
    """RLlib's own PPO module and connectors (no HERON helper)."""
    return (
        PPOConfig()
        .environment(env=RecordingEnv, env_config=env_config)
        .multi_agent(policies={"shared_policy"}, policy_mapping_fn=lambda aid, *a, **kw: "shared_policy")
        .env_runners(num_env_runners=0, **env_runners)
        .training(train_batch_size=200, minibatch_size=100, num_epochs=2)
        .rl_module(model_config={"fcnet_hiddens": [32, 32]})
        .debugging(seed=4)
    )


@pytest.mark.parametrize(("normalize", "clip"), [(True, False), (False, True)])
def test_bridge_and_export_rescale_or_clip_to_the_box_bounds(two_rooms, agents, tmp_path, normalize, clip):
    """Heating in [0, 4]: the module's outputs near 0 must become actions in [0, 4] as RLlib makes them."""
    config = {**two_rooms, "agents": [agents.room("room_a", agents.WideThermostat),
                                      agents.room("room_b", agents.WideThermostat)]}
    algo = build(default_ppo(config).environment(normalize_actions=normalize, clip_actions=clip))
    try:
        check_bridge_and_export(algo, tmp_path)
        actions = np.concatenate([a for _, step in deterministic_actions(algo) for a in step.values()])
        assert actions.min() >= 0.0 and actions.max() <= 4.0
        if normalize:  # outputs near 0 are rescaled to the middle of [0, 4]
            assert actions.min() > 1.0
        else:  # clipped only: the outputs near 0 stay there
            assert actions.max() < 1.0
    finally:
        algo.stop()


def test_bridge_applies_the_mean_std_filter_and_export_refuses_its_clipping(two_rooms, tmp_path):
    trained = build(default_ppo(two_rooms, env_to_module_connector=lambda env, spaces, device: MeanStdFilter(
        multi_agent=True)))
    frozen = default_ppo(two_rooms, env_to_module_connector=lambda env, spaces, device: MeanStdFilter(
        multi_agent=True, update_stats=False)).build_algo()
    try:
        frozen.env_runner.set_state(trained.env_runner.get_state())  # weights and filter statistics
        bridges = policies_from_algorithm(frozen)
        assert bridges["room_a"].obs_filter is not None and np.all(bridges["room_a"].obs_filter.mean > 10.0)
        for observations, actions in deterministic_actions(frozen):
            for aid, action in actions.items():
                assert_same_action(action, bridges[aid].space_action(observations[aid]), atol=1e-6)
        with pytest.raises(BackendError, match="clips observations at ±10"):
            export_policies(frozen, tmp_path / "portable")
    finally:
        trained.stop()
        frozen.stop()


def test_checkpoint_policies_equal_the_algorithm_and_deploy_without_ray(two_rooms, tmp_path, monkeypatch):
    algo = build(mappo_config(two_rooms, seed=3, hyperparams=SMALL))
    try:
        algo.save_to_path(str(tmp_path / "rllib"))
        live = policies_from_algorithm(algo)
        single = RLlibModuleBridge.from_algorithm(algo, "room_a")  # the one-agent factories of the module docs
        export_policies(algo, tmp_path / "portable")
    finally:
        algo.stop()
    monkeypatch.chdir(tmp_path)
    restored = policies_from_checkpoint("rllib")  # a relative path, as `heron evaluate runs/...` passes
    assert isinstance(restored["room_b"], RLlibModuleBridge)
    env = build_env(two_rooms)
    observations, _ = env.reset(seed=9)
    for bridge in (single, RLlibModuleBridge.from_checkpoint("rllib", "room_a")):
        assert bridge.agent_id == "room_a"
        np.testing.assert_allclose(bridge.space_action(observations["room_a"]),
                                   live["room_a"].space_action(observations["room_a"]), atol=1e-6)
    np.testing.assert_allclose(evaluate_policies(env, restored, 2, seed=9), evaluate_policies(env, live, 2, seed=9))
    expected = evaluate_policies(env, load_policies(tmp_path / "portable"), 2, seed=9)
    np.testing.assert_allclose(expected, evaluate_policies(env, live, 2, seed=9), rtol=1e-5)
    script = (
        "import sys; sys.modules['ray'] = sys.modules['torch'] = None\n"
        "from heron.portable.checkpoint import load_policies\n"
        "from heron.evaluation.episodes import evaluate_policies\n"
        "from heron.training import make_env\n"
        f"print(evaluate_policies(make_env('thermostat'), load_policies({str(tmp_path / 'portable')!r}), 2, seed=9))"
    )
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    np.testing.assert_allclose(eval(output), expected)  # the same returns with heron-core only


@pytest.mark.parametrize("content", [b"not a pickle", pickle.dumps({"ctor_args_and_kwargs": None})])
def test_a_corrupt_rllib_checkpoint_is_a_checkpoint_error_naming_the_file(tmp_path, content):
    for folder in ("learner_group/learner/rl_module", "env_runner/env_to_module_connector",
                   "env_runner/module_to_env_connector"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "class_and_ctor_args.pkl").write_bytes(content)
    with pytest.raises(CheckpointError, match=r"class_and_ctor_args.pkl is corrupt: expected RLlib's pickled "
                                              r"constructor arguments \((UnpicklingError|TypeError): "):
        policies_from_checkpoint(tmp_path)
