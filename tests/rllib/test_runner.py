"""HeronEnvRunner: step-based training, event-driven evaluation with real episodes, metrics, callbacks, stop()."""

from __future__ import annotations

import numpy as np
import pytest
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.callbacks.callbacks import RLlibCallback

from heron.adaptors.rllib import RLlibBasedHeronEnv
from heron.adaptors.rllib_module_bridge import policies_from_algorithm
from heron.adaptors.rllib_runner import EVENT_DRIVEN_KEY, HeronEnvRunner
from heron.backends.rllib.configs import mappo_config
from heron.core.errors import ConfigError
from heron.scheduling import ScheduleConfig
from heron.scheduling.runner import run_event_driven

SMALL = {"train_batch_size": 200, "minibatch_size": 100, "num_epochs": 2}


def my_sim_func(agent_states):
    """Each room cools toward 15 C."""
    for state in agent_states.values():
        room = state["RoomTempFeature"]
        room["temperature"] += 0.1 * (15.0 - room["temperature"])
    return agent_states


def test_the_issue_example_trains_and_evaluates_event_driven(agents):
    """The user code of the issue, verbatim apart from the agent specs (PPO's default: 2 env runners)."""
    config = (
        PPOConfig()
        .environment(env=RLlibBasedHeronEnv, env_config={
            "agents": [agents.room("room_a", coordinator="building"), agents.room("room_b", coordinator="building")],
            "coordinators": [{"coordinator_id": "building"}],
            "simulation": my_sim_func, "max_steps": 50,
        })
        .multi_agent(policies={"shared_policy"}, policy_mapping_fn=lambda aid, *a, **kw: "shared_policy")
        .env_runners(env_runner_cls=HeronEnvRunner)
        .evaluation(evaluation_interval=1, evaluation_duration=1, evaluation_duration_unit="episodes",
                    evaluation_config=HeronEnvRunner.evaluation_config(t_end=100.0))
        .training(train_batch_size=400, minibatch_size=200, num_epochs=1)
    )
    algo = config.build_algo()
    try:
        assert config.num_env_runners == 2
        result = algo.train()
    finally:
        algo.stop()
    assert result["env_runners"]["num_env_steps_sampled"] >= 400  # step-based PPO sampling
    evaluation = result["evaluation"]["env_runners"]
    assert evaluation["num_episodes"] == 1 and evaluation["episode_len_mean"] == 100
    event_driven = evaluation[EVENT_DRIVEN_KEY]
    assert event_driven["duration"] == 100.0 and event_driven["sim_steps"] == 100 and event_driven["num_events"] > 400
    assert set(event_driven["agent_returns"]) == {"room_a", "room_b"}
    assert evaluation["episode_return_mean"] == pytest.approx(event_driven["team_return"])
    assert evaluation["agent_episode_returns_mean"]["room_a"] == pytest.approx(event_driven["agent_returns"]["room_a"])


@pytest.fixture(scope="module")
def evaluating_algo():
    """MAPPO (global-state observations) whose evaluation runs event-driven with uneven agent timing."""
    from heron.demo_envs.thermostat import thermostat_config

    schedule = {"room_a": ScheduleConfig(tick_interval=1.0, obs_delay=0.2),
                "room_b": ScheduleConfig(tick_interval=2.0, act_delay=0.5)}
    config = mappo_config(thermostat_config(), seed=5, hyperparams=SMALL).evaluation(
        evaluation_interval=1, evaluation_duration=2, evaluation_duration_unit="episodes",
        evaluation_config=HeronEnvRunner.evaluation_config(t_end=30.0, schedule=schedule),
    )
    algo = config.build_algo()
    algo.train()
    yield algo
    algo.stop()


def test_event_driven_episodes_carry_the_real_run(evaluating_algo):
    runner = evaluating_algo.eval_env_runner
    (episode,) = runner.sample(num_episodes=1)
    assert episode.is_done and episode.is_truncated
    room_a, room_b = episode.agent_episodes["room_a"], episode.agent_episodes["room_b"]
    assert len(room_a) == 30 and len(room_b) == 15  # ticks every 1 and every 2 time units over 30
    for sa in (room_a, room_b):
        observations = sa.get_observations()  # numpy'ized: {"obs": (T + 1, 1), "state": (T + 1, 2), ...}
        temperatures = observations["obs"][:, 0]
        assert np.all((temperatures >= 10.0) & (temperatures <= 35.0)) and np.ptp(temperatures) > 0
        assert np.all(observations["agent_index"] == int(sa.agent_id == "room_b"))
        own = 0 if sa.agent_id == "room_a" else 1  # the state holds both temperatures, in agent order
        np.testing.assert_array_equal(observations["state"][:, own], temperatures)
        assert np.all(np.isfinite(sa.get_rewards())) and np.all(sa.get_rewards() < 0)
    # the actions are the trained policy's on the recorded observations (a deterministic bridge)
    bridge = policies_from_algorithm(evaluating_algo)["room_a"]
    actions = room_a.get_actions()
    assert np.ptp(actions) > 0
    for obs, action in zip(room_a.get_observations()["obs"][:-1], actions):
        np.testing.assert_allclose(action, bridge.space_action(obs), atol=1e-6)


def test_event_driven_returns_match_a_direct_run(evaluating_algo):
    """The episode's returns are those of run_event_driven with the same policies, seed and schedule."""
    runner = evaluating_algo.eval_env_runner
    settings = getattr(runner.config, EVENT_DRIVEN_KEY)
    state = runner._event_seeds.bit_generator.state
    (episode,) = runner.sample(num_episodes=1)
    runner._event_seeds.bit_generator.state = state
    seed = int(runner._event_seeds.integers(2**31))
    env = RLlibBasedHeronEnv(runner.config.env_config)
    env.heron_env.reset(seed=seed)
    stats = run_event_driven(env.heron_env, policies_from_algorithm(evaluating_algo), settings.t_end,
                             schedule=settings.schedule)
    for aid in ("room_a", "room_b"):
        assert episode.agent_episodes[aid].get_return() == pytest.approx(stats.agent_returns[aid])


def test_evaluation_results_merge_like_rllibs_own(evaluating_algo):
    evaluating_algo.eval_env_runner.get_metrics()  # drop what the direct sample() calls above logged
    result = evaluating_algo.evaluate()["env_runners"]
    assert result["num_episodes"] == 2 and result["num_env_steps_sampled"] == 2 * 30
    assert result[EVENT_DRIVEN_KEY]["duration"] == 30.0
    assert result["episode_return_mean"] == pytest.approx(result[EVENT_DRIVEN_KEY]["team_return"])


class CountingCallback(RLlibCallback):
    def on_episode_end(self, *, episode, metrics_logger, **kwargs):
        metrics_logger.log_value("class_callback_episodes", 1, reduce="sum")


def count_episode(*, episode, metrics_logger, **kwargs):
    metrics_logger.log_value("function_callback_episodes", 1, reduce="sum")


class ClosingEnv(RLlibBasedHeronEnv):
    closed: list[int] = []

    def close(self):
        ClosingEnv.closed.append(id(self))
        super().close()


def test_callbacks_of_both_kinds_run_and_stop_closes_every_env(two_rooms):
    ClosingEnv.closed.clear()
    config = (
        mappo_config(two_rooms, seed=0, hyperparams=SMALL)
        .environment(env=ClosingEnv)
        .callbacks([CountingCallback, CountingCallback], on_episode_end=count_episode)
        .evaluation(evaluation_interval=1, evaluation_duration=1, evaluation_duration_unit="episodes",
                    evaluation_config=HeronEnvRunner.evaluation_config(t_end=10.0))
    )
    algo = config.build_algo()
    try:
        evaluation = algo.train()["evaluation"]["env_runners"]
        runner = algo.eval_env_runner
        event_env = runner._event_env
    finally:
        algo.stop()
    assert evaluation["class_callback_episodes"] == 2 and evaluation["function_callback_episodes"] == 1
    assert id(event_env) in ClosingEnv.closed and len(ClosingEnv.closed) >= 3  # + training and eval vector envs


def test_the_evaluation_seed_fixes_the_event_driven_episodes():
    """evaluation_config(seed=...) seeds the evaluation episodes, whatever the algorithm's own seed."""
    from heron.demo_envs.thermostat import thermostat_config

    def first_evaluation(algorithm_seed, evaluation_seed):
        config = mappo_config(thermostat_config(), seed=algorithm_seed, hyperparams=SMALL).evaluation(
            evaluation_interval=1, evaluation_duration=1, evaluation_duration_unit="episodes",
            evaluation_config=HeronEnvRunner.evaluation_config(t_end=20.0, seed=evaluation_seed),
        )
        algo = config.build_algo()
        try:
            runner = algo.eval_env_runner
            (episode,) = runner.sample(num_episodes=1)
            return episode.agent_episodes["room_a"].get_observations()["obs"][0, 0]  # the reset temperature
        finally:
            algo.stop()

    assert first_evaluation(1, 11) == first_evaluation(2, 11)
    assert first_evaluation(1, 11) != first_evaluation(1, 12)


def test_ticks_that_close_no_simulation_step_are_steps_with_zero_reward():
    """An agent ticking faster than the simulation acts between steps; RLlib's episode gets 0 for those."""
    from heron.demo_envs.thermostat import thermostat_config

    schedule = {"room_a": ScheduleConfig(tick_interval=0.5), "room_b": ScheduleConfig(tick_interval=1.0)}
    config = mappo_config(thermostat_config(), seed=3, hyperparams=SMALL).evaluation(
        evaluation_interval=1, evaluation_duration=1, evaluation_duration_unit="episodes",
        evaluation_config=HeronEnvRunner.evaluation_config(t_end=10.0, schedule=schedule),
    )
    algo = config.build_algo()
    try:
        (episode,) = algo.eval_env_runner.sample(num_episodes=1)
    finally:
        algo.stop()
    room_a = episode.agent_episodes["room_a"]
    assert len(room_a) == 20  # ticks at 0, 0.5, ..., 9.5
    rewards = room_a.get_rewards()
    assert np.count_nonzero(rewards == 0.0) == 10 and np.all(rewards[rewards != 0.0] < 0)


def test_an_error_in_user_code_reaches_the_user_as_itself():
    """RLlib's env check wraps errors in 'does not abide to the new gymnasium-style API'; the user sees theirs."""
    from heron.demo_envs.thermostat import Thermostat

    class Broken(Thermostat):
        def apply_action(self):
            raise ZeroDivisionError("a bug in the user's apply_action")

    env_config = {"agents": [{"agent_id": "room_a", "agent_cls": Broken}], "simulation": my_sim_func}
    config = mappo_config(env_config, seed=0, hyperparams=SMALL)
    with pytest.raises(ZeroDivisionError, match="a bug in the user's apply_action") as caught:
        config.build_algo()
    assert any("room_a" in note for note in caught.value.__notes__)


def test_bad_evaluation_settings_are_errors():
    with pytest.raises(ConfigError, match="t_end must be a positive number"):
        HeronEnvRunner.evaluation_config(t_end=-1.0)
    where = r"^HeronEnvRunner\.evaluation_config: "
    with pytest.raises(ConfigError, match=where + r"t_end must be a positive number, got '100'$"):
        HeronEnvRunner.evaluation_config(t_end="100")
    with pytest.raises(ConfigError, match=where + r"sim_interval must be a positive number, got nan$"):
        HeronEnvRunner.evaluation_config(t_end=10.0, sim_interval=float("nan"))
    with pytest.raises(ConfigError, match="schedule"):
        HeronEnvRunner.evaluation_config(t_end=10.0, schedule="fast")
    with pytest.raises(ConfigError, match=where + "seed must be a non-negative integer, got -1"):
        HeronEnvRunner.evaluation_config(t_end=10.0, seed=-1)
    with pytest.raises(ConfigError, match="tick_interval"):
        HeronEnvRunner.evaluation_config(t_end=10.0, schedule={"room_a": {"tick_interval": 0.0}})
