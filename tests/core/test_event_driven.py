"""Event-driven runs: equivalence with synchronous steps, timing rules, determinism, jitter, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from heron.core import ActionError, ConfigError, EnvNotResetError, UnknownAgentError
from heron.demo_envs.thermostat import ProportionalController, thermostat_config
from heron.envs import build_env
from heron.scheduling import EpisodeAnalyzer, JitterType, ScheduleConfig, evaluate_event_driven
from heron.scheduling.runner import EventDrivenRun
from heron.training import make_env

from .event_driven_fixtures import (
    BufferPolicy,
    BuildingController,
    ConstantPolicy,
    FullModeController,
    filler_config,
)

EVERY_STEP = ScheduleConfig.deterministic(tick_interval=1.0)


def proportional(env, policy_cls=ProportionalController):
    return {aid: policy_cls() for aid in env.possible_agents}


def building_env(num_rooms=2, max_steps=50):
    env = build_env(thermostat_config(num_rooms=num_rooms, max_steps=max_steps, coordinator_protocol="vertical"))
    return env, {"building": BuildingController(num_rooms)}


def sync_run(env, policies, seed, steps):
    """Per-agent returns and per-step observations of ``steps`` synchronous steps."""
    observations, _ = env.reset(seed=seed)
    returns = dict.fromkeys(env.possible_agents, 0.0)
    seen = {aid: [] for aid in env.possible_agents}
    for _ in range(steps):
        for aid in env.agents:
            seen[aid].append(observations[aid].vector_for(policies[aid].observation_mode).copy())
        actions = {aid: policies[aid].forward(observations[aid]) for aid in env.agents}
        observations, rewards, terminated, truncated, _ = env.step(actions)
        for aid, reward in rewards.items():
            returns[aid] += reward
        if terminated["__all__"] or truncated["__all__"]:
            break
    return returns, seen


def event_run(env, policies, t_end, seed=0, jitter_seed=None, analyzer=None, **options):
    env.reset(seed=seed, jitter_seed=jitter_seed)
    env.set_agent_policies(policies)
    return env.run_event_driven(t_end, analyzer, **options)


# ------------------------------------------------------------------ equivalence with env.step
@pytest.mark.parametrize("steps", [1, 13, 50])
def test_zero_delays_and_unit_ticks_give_the_synchronous_returns(steps):
    env = make_env("thermostat", num_rooms=3, max_steps=50)
    policies = proportional(env)
    expected, _ = sync_run(env, policies, seed=4, steps=steps)
    stats = event_run(env, policies, float(steps), seed=4, schedule=EVERY_STEP)
    assert stats.sim_steps == steps
    for aid in env.possible_agents:
        assert stats.agent_returns[aid] == pytest.approx(expected[aid], rel=1e-12, abs=1e-12)
    assert stats.team_return == pytest.approx(sum(expected.values()), rel=1e-12)
    assert stats.agent_returns["system_agent"] == pytest.approx(stats.team_return, rel=1e-12)


def test_coordinator_with_vertical_protocol_matches_synchronous_and_its_rooms_need_no_policy():
    env, policies = building_env(num_rooms=3)
    expected, _ = sync_run(env, policies, seed=2, steps=30)
    analyzer = EpisodeAnalyzer()
    stats = event_run(env, policies, 30.0, seed=2, analyzer=analyzer, schedule=EVERY_STEP)
    assert stats.agent_returns["building"] == pytest.approx(expected["building"], rel=1e-12)
    rooms = ["room_a", "room_b", "room_c"]
    assert sum(stats.agent_returns[room] for room in rooms) == pytest.approx(expected["building"], rel=1e-12)
    assert stats.events_by_type["message_delivery"] == 31  # one per building decision, t = 0..30
    history = analyzer.get_reward_history()
    assert all(len(history[room]) == 30 for room in rooms)


@pytest.mark.parametrize("policy_cls", [ProportionalController, FullModeController])
def test_event_driven_policies_see_the_synchronous_observation_vectors(policy_cls):
    env = make_env("thermostat", num_rooms=3, max_steps=20)
    policies = proportional(env, policy_cls)
    _, expected = sync_run(env, policies, seed=9, steps=20)
    analyzer = EpisodeAnalyzer()
    event_run(env, policies, 19.0, seed=9, analyzer=analyzer, schedule=EVERY_STEP)
    observed = analyzer.get_observation_history()
    for aid in env.possible_agents:
        assert [t for t, _ in observed[aid]] == [float(k) for k in range(20)]
        assert len(expected[aid][0]) == (1 if policy_cls is ProportionalController else 4)
        for (_, vector), sync_vector in zip(observed[aid], expected[aid]):
            np.testing.assert_array_equal(vector, sync_vector)


# ------------------------------------------------------------------ timing semantics
def test_the_simulation_runs_on_its_own_clock_whatever_the_tick_rates():
    env = make_env("thermostat")
    fast = ScheduleConfig.deterministic(tick_interval=0.25)
    analyzer = EpisodeAnalyzer()
    stats = event_run(env, proportional(env), 20.0, analyzer=analyzer, schedule=fast)
    assert stats.sim_steps == 20
    assert stats.events_by_type["agent_tick"] == 3 * 81
    # only ticks that close a simulation step report a reward
    assert [t for t, _ in analyzer.get_reward_history()["room_a"]] == [float(k) for k in range(1, 21)]
    half = event_run(env, proportional(env), 20.0, schedule=fast, sim_interval=0.5)
    assert half.sim_steps == 40


def test_default_schedules_reward_every_agent_at_its_own_rate_within_100_time_units():
    env, policies = building_env()
    analyzer = EpisodeAnalyzer()
    stats = event_run(env, policies, 100.0, seed=1, analyzer=analyzer)
    history = analyzer.get_reward_history()
    assert {aid: len(entries) for aid, entries in history.items()} == {
        "room_a": 100, "room_b": 100, "building": 50, "system_agent": 25,
    }
    assert stats.events_by_type["observation_ready"] == 51  # the building ticks every 2
    # every agent's return covers every simulation step, whatever its rate
    rooms = stats.agent_returns["room_a"] + stats.agent_returns["room_b"]
    assert stats.agent_returns["building"] == pytest.approx(rooms, rel=1e-12)
    assert stats.agent_returns["system_agent"] == pytest.approx(rooms, rel=1e-12)
    for aid, entries in history.items():
        assert sum(r for _, r in entries) == pytest.approx(stats.agent_returns[aid], rel=1e-12)


def test_slower_ticks_collect_several_steps_per_reward_and_the_final_partial_interval():
    env = make_env("thermostat", max_steps=10)
    schedule = {"room_a": ScheduleConfig.deterministic(tick_interval=3.0), "room_b": EVERY_STEP}
    analyzer = EpisodeAnalyzer()
    stats = event_run(env, proportional(env), 10.0, analyzer=analyzer, schedule=schedule)
    times = [t for t, _ in analyzer.get_reward_history()["room_a"]]
    assert times == [3.0, 6.0, 9.0, 10.0]  # the last entry holds the step after the tick at 9
    assert stats.pending_events == 0


def test_t_end_is_respected_and_events_never_go_back_in_time():
    env = make_env("thermostat", num_rooms=3)
    schedule = ScheduleConfig.with_jitter(tick_interval=0.7, obs_delay=0.3, act_delay=0.4,
                                          jitter_type=JitterType.GAUSSIAN, jitter_ratio=0.5)
    analyzer = EpisodeAnalyzer(record_events=True)
    stats = event_run(env, proportional(env), 10.5, jitter_seed=3, analyzer=analyzer, schedule=schedule)
    times = [t for t, _, _ in analyzer.get_event_log()]
    assert times == sorted(times) and times[-1] <= 10.5
    assert len(times) == stats.num_events == sum(stats.events_by_type.values())
    assert stats.duration == 10.5 and stats.sim_steps == 10 and env.timestamp == 10.5
    for entries in analyzer.get_reward_history().values():
        assert all(0 < t <= 10.5 for t, _ in entries)
    decisions = analyzer.get_observation_history()
    for aid, entries in analyzer.get_action_history().items():
        delays = [decided - measured for (measured, _), (decided, _) in zip(decisions[aid], entries)]
        assert min(delays) >= 0 and max(delays) > 0.3


def test_env_max_steps_does_not_stop_an_event_driven_run():
    env = make_env("thermostat", max_steps=5)
    stats = event_run(env, proportional(env), 20.0, schedule=EVERY_STEP)
    assert stats.sim_steps == 20 and stats.duration == 20.0


def test_evaluate_event_driven_defaults_to_one_training_episode_and_is_reproducible():
    env = make_env("thermostat", max_steps=30)
    schedule = ScheduleConfig.with_jitter(obs_delay=0.5, jitter_ratio=0.3)
    first = evaluate_event_driven(env, proportional(env), seed=7, schedule=schedule)
    second = evaluate_event_driven(env, proportional(env), seed=7, schedule=schedule)
    other = evaluate_event_driven(env, proportional(env), seed=8, schedule=schedule)
    assert first.duration == 30.0 and first.sim_steps == 30
    assert first.agent_returns == second.agent_returns
    assert first.agent_returns != other.agent_returns


# ------------------------------------------------------------------ delays and messages
def test_one_step_of_observation_action_or_message_delay_has_the_same_effect():
    env, policies = building_env()
    results = {}
    for name in ("obs_delay", "act_delay", "msg_delay", None):
        schedule = EVERY_STEP.replace(**{name: 1.0}) if name else EVERY_STEP
        results[name] = event_run(env, policies, 40.0, seed=5, schedule=schedule).agent_returns["building"]
    assert results["obs_delay"] == pytest.approx(results["act_delay"], rel=1e-12)
    assert results["act_delay"] == pytest.approx(results["msg_delay"], rel=1e-12)
    assert results["obs_delay"] < results[None] - 1.0


def test_messages_reach_subordinates_msg_delay_after_the_action_effect():
    env, policies = building_env()
    analyzer = EpisodeAnalyzer(record_events=True)
    schedule = {"building": ScheduleConfig.deterministic(tick_interval=2.0, act_delay=0.5, msg_delay=0.75)}
    event_run(env, policies, 10.0, analyzer=analyzer, schedule=schedule)
    log = analyzer.get_event_log()
    effects = [t for t, kind, aid in log if kind == "action_effect" and aid == "building"]
    deliveries = [t for t, kind, aid in log if kind == "message_delivery"]
    assert effects[:3] == [0.5, 2.5, 4.5]
    assert deliveries == [t + 0.75 for t in effects]


def test_observation_delay_degrades_the_proportional_controller():
    env = make_env("thermostat", max_steps=50)
    returns = [
        event_run(env, proportional(env), 50.0, seed=0, schedule=EVERY_STEP.replace(obs_delay=d)).team_return
        for d in (0.0, 1.0, 2.0)
    ]
    assert returns[0] > returns[1] + 1.0 > returns[2] + 2.0


# ------------------------------------------------------------------ determinism and jitter
JITTERED = ScheduleConfig.with_jitter(tick_interval=1.0, obs_delay=0.3, act_delay=0.4, jitter_type="gaussian",
                                      jitter_ratio=0.3)


def event_log(env, jitter_seed, seed=0, schedule=JITTERED):
    analyzer = EpisodeAnalyzer(record_events=True)
    stats = event_run(env, proportional(env), 30.0, seed=seed, jitter_seed=jitter_seed, analyzer=analyzer,
                      schedule=schedule)
    return analyzer.get_event_log(), stats.agent_returns


def test_same_seeds_give_the_same_event_sequence_and_returns():
    env = make_env("thermostat", num_rooms=3)
    log, returns = event_log(env, jitter_seed=11)
    again_log, again_returns = event_log(env, jitter_seed=11)
    assert log == again_log and returns == again_returns
    other_log, other_returns = event_log(env, jitter_seed=12)
    assert other_log != log and other_returns != returns


def test_config_seed_or_env_seed_fix_the_jitter_when_the_run_gives_none():
    env = make_env("thermostat")
    seeded = JITTERED.replace(seed=5)
    assert event_log(env, None, schedule=seeded) == event_log(env, None, schedule=seeded)
    assert event_log(env, None, schedule=seeded)[0] != event_log(env, None, schedule=JITTERED.replace(seed=6))[0]
    assert event_log(env, None, seed=3) == event_log(env, None, seed=3)
    assert event_log(env, None, seed=3)[0] != event_log(env, None, seed=4)[0]


def tick_times(log, agent_id):
    return [t for t, kind, aid in log if kind == "agent_tick" and aid == agent_id]


def test_per_agent_jitter_settings_are_honoured_and_one_run_seed_gives_independent_streams():
    env = make_env("thermostat", num_rooms=3)
    same = ScheduleConfig.with_jitter(tick_interval=1.0, jitter_type="uniform", jitter_ratio=0.2, seed=1)
    schedule = {"room_a": EVERY_STEP, "room_b": same, "room_c": same}
    log, _ = event_log(env, jitter_seed=99, schedule=schedule)
    assert tick_times(log, "room_a") == [float(k) for k in range(31)]  # the run seed does not add jitter
    room_b, room_c = tick_times(log, "room_b"), tick_times(log, "room_c")
    gaps = np.diff(room_b)
    assert gaps.min() >= 0.8 and gaps.max() <= 1.2 and gaps.std() > 0.05
    assert room_b[:10] != room_c[:10]  # identical configs, independent streams
    wide = {**schedule, "room_c": same.replace(jitter_ratio=0.9)}
    wide_gaps = np.diff(tick_times(event_log(env, jitter_seed=99, schedule=wide)[0], "room_c"))
    assert wide_gaps.max() - wide_gaps.min() > 0.8  # room_c's own ratio applies


def test_changing_one_delay_keeps_the_other_jitter_streams():
    env = make_env("thermostat")
    log, _ = event_log(env, jitter_seed=4)
    slower, _ = event_log(env, jitter_seed=4, schedule=JITTERED.replace(obs_delay=0.6))
    assert tick_times(log, "room_a") == tick_times(slower, "room_a")


# ------------------------------------------------------------------ termination
def test_terminations_match_synchronous_mode_and_end_the_run():
    env = build_env(filler_config())
    policies = {"tank_0": ConstantPolicy(0.3), "tank_1": ConstantPolicy(0.2)}
    expected, _ = sync_run(env, policies, seed=0, steps=50)
    analyzer = EpisodeAnalyzer()
    stats = event_run(env, policies, 50.0, analyzer=analyzer, schedule=EVERY_STEP)
    assert stats.agent_returns["tank_0"] == pytest.approx(expected["tank_0"])
    assert stats.agent_returns["tank_1"] == pytest.approx(expected["tank_1"])
    assert analyzer.get_termination_history() == [(4.0, "tank_0"), (5.0, "tank_1")]
    assert stats.terminated == {"tank_0": 4.0, "tank_1": 5.0} and stats.all_terminated
    assert stats.duration == 5.0 and stats.sim_steps == 5
    assert [t for t, _ in analyzer.get_reward_history()["tank_0"]] == [1.0, 2.0, 3.0, 4.0]
    assert [t for t, _ in analyzer.get_observation_history()["tank_0"]] == [0.0, 1.0, 2.0, 3.0]


# ------------------------------------------------------------------ records are copies
def test_delayed_actions_and_records_are_copies_taken_at_decision_time():
    env = make_env("thermostat", max_steps=30)
    schedule = EVERY_STEP.replace(act_delay=1.5)  # the next decision comes before the previous action takes effect
    fresh = event_run(env, proportional(env), 30.0, seed=1, schedule=schedule)
    analyzer = EpisodeAnalyzer()
    reused = event_run(env, proportional(env, BufferPolicy), 30.0, seed=1, analyzer=analyzer, schedule=schedule)
    assert reused.agent_returns == pytest.approx(fresh.agent_returns, rel=1e-12)
    actions = [vector[0] for _, vector in analyzer.get_action_history()["room_a"]]
    observations = [vector[0] for _, vector in analyzer.get_observation_history()["room_a"]]
    assert len(set(actions)) > 10 and len(set(observations)) > 10
    assert actions[:5] == pytest.approx([0.5 * (22.0 - o) for o in observations[:5]], rel=1e-6)


def test_state_trajectory_is_recorded_for_plotting(tmp_path):
    env = make_env("thermostat")
    analyzer = EpisodeAnalyzer(record_states=True)
    event_run(env, proportional(env), 12.0, analyzer=analyzer)
    times, states = analyzer.get_state_trajectory()
    assert times.tolist() == [float(k) for k in range(1, 13)] and states.shape == (12, 2)
    assert analyzer.state_labels == ["room_a.RoomTempFeature.temperature", "room_b.RoomTempFeature.temperature"]
    observations, _ = env.reset(seed=0)  # the same episode stepped synchronously: every recorded row matches
    policies = proportional(env)
    for row in states:
        observations, *_ = env.step({aid: policies[aid].forward(observations[aid]) for aid in env.agents})
        np.testing.assert_array_equal(row, env.state())
    path = analyzer.plot_state_trajectory(tmp_path / "states.png", ["room_a.RoomTempFeature.temperature"])
    assert path.stat().st_size > 1000
    with pytest.raises(ConfigError, match="unknown state entries"):
        analyzer.plot_state_trajectory(tmp_path / "x.png", ["room_z"])
    with pytest.raises(ConfigError, match="record_states=True"):
        EpisodeAnalyzer().get_state_trajectory()
    with pytest.raises(ConfigError, match="record_events=True"):
        EpisodeAnalyzer().get_event_log()


def test_summary_reports_counts_returns_and_speed():
    env = make_env("thermostat")
    stats = event_run(env, proportional(env), 10.0, schedule=EVERY_STEP)
    summary = stats.summary()
    assert summary["num_events"] == 10 + 3 * 11 + 2 * 2 * 11  # simulations, ticks, observations + effects
    assert summary["events_by_type"]["agent_tick"] == 33
    rooms = summary["agent_returns"]["room_a"] + summary["agent_returns"]["room_b"]
    assert summary["team_return"] == pytest.approx(rooms)
    assert summary["events_per_second"] > 0 and not summary["all_terminated"]


# ------------------------------------------------------------------ errors
def test_agents_without_policies_and_wrong_policies_are_clear_errors():
    env, _ = building_env()
    env.reset(seed=0)
    with pytest.raises(ConfigError, match=r"no policy for acting agent\(s\) \['building'\]"):
        env.set_agent_policies({})
    with pytest.raises(ConfigError, match="agent 'room_a' does not choose actions"):
        env.set_agent_policies({"building": BuildingController(2), "room_a": ProportionalController()})
    with pytest.raises(UnknownAgentError, match="no agent 'attic'"):
        env.set_agent_policies({"building": BuildingController(2), "attic": ProportionalController()})
    with pytest.raises(ConfigError, match="policy of agent 'building' must be a heron Policy, got function"):
        env.set_agent_policies({"building": lambda obs: obs})
    with pytest.raises(ConfigError, match=r"call env\.set_agent_policies"):
        env.run_event_driven(10.0)


def test_wrong_actions_from_a_policy_are_errors_naming_the_agent():
    env = make_env("thermostat")
    policies = {"room_a": ConstantPolicy(math.nan), "room_b": ProportionalController()}
    with pytest.raises(ActionError, match=r"room_a.*NaN"):
        event_run(env, policies, 5.0)


class DictPolicy(ProportionalController):
    """Returns its action as a ``{"c": ...}`` mapping, reusing one dict."""

    def __init__(self):
        super().__init__()
        self.out = {"c": np.zeros(1)}

    def forward(self, obs):
        self.out["c"][0] = self.gain * (22.0 - obs.local_vector()[0])
        return self.out


def test_policies_may_return_arrays_or_mappings_but_not_anything_else():
    env = make_env("thermostat", max_steps=20)
    schedule = EVERY_STEP.replace(act_delay=1.5)
    expected = event_run(env, proportional(env), 20.0, seed=2, schedule=schedule).agent_returns
    analyzer = EpisodeAnalyzer()
    mapped = event_run(env, proportional(env, DictPolicy), 20.0, seed=2, analyzer=analyzer, schedule=schedule)
    assert mapped.agent_returns == pytest.approx(expected, rel=1e-12)
    assert len({vector[0] for _, vector in analyzer.get_action_history()["room_b"]}) > 5
    policies = {"room_a": ConstantPolicy("warm"), "room_b": ProportionalController()}
    policies["room_a"].forward = lambda obs: "warm"
    message = r"the policy of agent 'room_a' returned 'warm', which is not an action; expected an Action, a \{'c'"
    with pytest.raises(ActionError, match=message):
        event_run(env, policies, 5.0)


def test_an_event_driven_run_runs_once():
    env = make_env("thermostat")
    env.reset(seed=0)
    run = EventDrivenRun(env, proportional(env), 5.0)
    run.run()
    message = r"env 'thermostat_2': this EventDrivenRun already ran \(\d+ events\); build a new one \(after env.reset\)"
    with pytest.raises(EnvNotResetError, match=message):
        run.run()


def test_runs_need_a_fresh_reset_and_valid_arguments():
    env = make_env("thermostat")
    policies = proportional(env)
    env.set_agent_policies(policies)
    with pytest.raises(RuntimeError, match="call reset"):
        env.run_event_driven(5.0)
    env.reset(seed=0)
    env.step({aid: [0.0] for aid in env.agents})
    with pytest.raises(RuntimeError, match="call reset"):
        env.run_event_driven(5.0)
    env.reset(seed=0)
    env.run_event_driven(5.0)
    with pytest.raises(RuntimeError, match="call reset"):
        env.run_event_driven(5.0)
    for bad in (0.0, -1.0, math.inf, "10"):
        env.reset(seed=0)
        with pytest.raises(ConfigError, match="t_end must be"):
            env.run_event_driven(bad)
    env.reset(seed=0)
    with pytest.raises(ConfigError, match="sim_interval must be a positive"):
        env.run_event_driven(5.0, sim_interval=0.0)
    with pytest.raises(UnknownAgentError, match=r"schedule names unknown agent\(s\) \['attic'\]"):
        env.run_event_driven(5.0, schedule={"attic": EVERY_STEP})
    with pytest.raises(ConfigError, match="episode_analyzer must be an EpisodeAnalyzer"):
        env.run_event_driven(5.0, {"record": True})
    env.reset(seed=0, jitter_seed="fixed")
    with pytest.raises(ConfigError, match="jitter_seed must be a non-negative integer, got 'fixed'"):
        env.run_event_driven(5.0)


def test_schedule_config_dicts_in_env_config_are_used_and_checked():
    config = thermostat_config(max_steps=20)
    config["agents"][0]["schedule_config"] = {"tick_interval": 2.0}
    env = build_env(config)
    analyzer = EpisodeAnalyzer()
    event_run(env, proportional(env), 20.0, analyzer=analyzer)
    assert len(analyzer.get_reward_history()["room_a"]) == 10
    assert len(analyzer.get_reward_history()["room_b"]) == 20
    config["agents"][1]["schedule_config"] = {"tick_interval": 1.0, "obs_delay": -0.5}
    env = build_env(config)
    message = r"agent 'room_b' schedule_config: ScheduleConfig\.obs_delay must be a non-negative number, got -0.5"
    with pytest.raises(ConfigError, match=message):
        event_run(env, proportional(env), 20.0)
    config["agents"][1]["schedule_config"] = "fast"
    env = build_env(config)
    with pytest.raises(ConfigError, match="agent 'room_b' schedule_config must be a ScheduleConfig or a dict"):
        event_run(env, proportional(env), 20.0)


def test_coordinator_and_system_specs_take_schedule_configs_too():
    config = thermostat_config(max_steps=20, coordinator_protocol="vertical")
    config["coordinators"][0]["schedule_config"] = ScheduleConfig.deterministic(tick_interval=5.0)
    config["system"] = {"schedule_config": {"tick_interval": 10.0}}
    env = build_env(config)
    analyzer = EpisodeAnalyzer()
    event_run(env, {"building": BuildingController(2)}, 20.0, analyzer=analyzer)
    history = analyzer.get_reward_history()
    assert [t for t, _ in history["building"]] == [5.0, 10.0, 15.0, 20.0]
    assert [t for t, _ in history["system_agent"]] == [10.0, 20.0]
    assert len(history["room_a"]) == 20


class CountingController(ProportionalController):
    """Counts its decisions within an episode."""

    def __init__(self):
        super().__init__()
        self.decisions = 0

    def reset(self):
        self.decisions = 0

    def forward(self, obs):
        self.decisions += 1
        return super().forward(obs)


def test_policies_are_reset_when_a_run_starts():
    env = make_env("thermostat")
    policies = proportional(env, CountingController)
    for _ in range(2):
        event_run(env, policies, 10.0, schedule=EVERY_STEP)
        assert policies["room_a"].decisions == 11
