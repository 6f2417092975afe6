"""The microgrid demo env: one hand-checked step, seeding, the feeders' budgets, visibility, arguments, evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from heron.core import ConfigError, ObservationError
from heron.demo_envs.microgrid import GRID_OPERATOR, load_shape, microgrid_reference, sun_shape, tariff
from heron.evaluation import robustness_sweep
from heron.evaluation.episodes import run_episode
from heron.training import make_env

SMALL = {"num_coordinators": 1, "batteries_per_coordinator": 1, "pv_per_coordinator": 1, "loads_per_coordinator": 1,
         "battery_efficiency": 0.8}
BATTERY, LOAD, PANEL = "feeder_0_battery_0", "feeder_0_load_0", "feeder_0_pv_0"


def references(env):
    return {aid: microgrid_reference() for aid in env.possible_agents}


def features(env, agent_id):
    return env.agent(agent_id).state.features


def set_hour_zero_state(env, soc, load, pv, output=0.0):
    """After a reset: the battery's charge, the coming hour's load and PV, the generator's output."""
    features(env, BATTERY)["BatteryFeature"].soc = soc
    features(env, LOAD)["LoadFeature"].forecast = load
    features(env, PANEL)["SolarFeature"].forecast = pv
    features(env, "generator_0")["GeneratorFeature"].output = output


@pytest.mark.parametrize(
    ("soc", "load", "pv", "budget", "level", "expected"),
    [
        # 0.5 kW discharged from 1.5 kWh at efficiency 0.8 leaves 0.875 kWh; net 1.5 - 0.2 - 0.5 = 0.8 kW at 0.10;
        # wear 0.01 * 0.5; the 0.625 kWh lost are worth 0.3 * 0.625. The generator ramps 0 -> 0.5 (1 kW).
        (0.5, 1.5, 0.2, 0.5, 2, {"soc": 0.875 / 3, "power": 0.5, "unmet": 0.0, "feeder": 0.08 + 0.005 + 0.1875,
                                 "generator": (0.3 - 0.1) * 1.0, "import": (0.8 - 1.0) / 2.0}),
        # 0.3 kWh give at most 0.24 kW (0.76 kW of the budget missed, 0.2 each); 4 - 0.24 = 3.76 kW over a 2 kW
        # line: 1.76 kWh unmet (1.0 each), 2 kW bought; the 0.3 kWh lost are worth 0.09.
        (0.1, 4.0, 0.0, 1.0, 0, {"soc": 0.0, "power": 0.24, "unmet": 1.76,
                                 "feeder": 0.2 + 1.76 + 0.0024 + 0.152 + 0.09, "generator": 0.0, "import": 1.0}),
        # 0.3 kWh of room take at most 0.375 kW (0.625 missed); 0.5 + 0.375 - 3 = -2.125 kW: 2 kW sold at the line
        # limit; the 0.3 kWh stored are worth 0.09.
        (0.9, 0.5, 3.0, -1.0, 0, {"soc": 1.0, "power": -0.375, "unmet": 0.0,
                                  "feeder": -0.2 + 0.00375 + 0.125 - 0.09, "generator": 0.0, "import": -1.0}),
    ],
)
def test_one_step_by_hand(soc, load, pv, budget, level, expected):
    env = make_env("microgrid", **SMALL)
    env.reset(seed=0)
    set_hour_zero_state(env, soc, load, pv)
    _, rewards, *_ = env.step({"feeder_0": [budget], "generator_0": [level]})
    assert features(env, BATTERY)["BatteryFeature"].soc == pytest.approx(expected["soc"])
    assert features(env, BATTERY)["BatteryFlow"].power == pytest.approx(expected["power"])
    assert features(env, LOAD)["LoadFeature"].power == load  # the forecast became the settled hour's demand
    assert features(env, PANEL)["SolarFeature"].power == pv
    ledger = features(env, "feeder_0")["LedgerFeature"]
    assert ledger.unmet == pytest.approx(expected["unmet"])
    assert rewards["feeder_0"] == pytest.approx(-expected["feeder"])
    assert rewards["generator_0"] == pytest.approx(-expected["generator"])
    assert env.agent(GRID_OPERATOR).last_reward == pytest.approx(rewards["feeder_0"] + rewards["generator_0"])
    grid = features(env, GRID_OPERATOR)["GridFeature"]
    assert grid.net_import == pytest.approx(expected["import"])
    assert (grid.hour, grid.price) == (1.0, tariff(1))
    # the observation shows the coming hour's net load, in units of the feeder's 1 kW of batteries
    coming = features(env, LOAD)["LoadFeature"].forecast - features(env, PANEL)["SolarFeature"].forecast
    assert features(env, "feeder_0")["FeederFeature"].net_load == pytest.approx(coming)


def test_a_generator_ramps_toward_its_level():
    env = make_env("microgrid", **SMALL)
    env.reset(seed=0)
    outputs = []
    for level in (2, 2, 2, 1, 0, 0):
        env.step({"feeder_0": [0.0], "generator_0": [level]})
        outputs.append(features(env, "generator_0")["GeneratorFeature"].output)
    assert outputs == [0.5, 1.0, 1.0, 0.5, 0.0, 0.0]


def test_profiles_follow_the_day_and_the_tariff():
    env = make_env("microgrid")
    env.reset(seed=4)
    policies = references(env)
    observations, _ = env.reset(seed=4)
    pv, load = [], []
    for _ in range(24):
        observations, *_ = env.step({aid: policies[aid].forward(observations[aid]) for aid in env.agents})
        pv.append(features(env, PANEL)["SolarFeature"].power)
        load.append(features(env, LOAD)["LoadFeature"].power)
    assert all(power == 0.0 for hour, power in enumerate(pv) if hour <= 6 or hour >= 18)
    assert max(pv) == max(pv[10:15]) > 0  # around noon
    assert int(np.argmax(load)) in range(17, 22)  # the evening peak
    assert [tariff(hour) for hour in (0, 7, 17, 21, 24)] == [0.10, 0.20, 0.40, 0.20, 0.10]
    assert load_shape(19) == pytest.approx(1.0, abs=1e-3) and sun_shape(12) == 1.0 and sun_shape(3) == 0.0


def test_the_same_seed_gives_the_same_trajectory():
    def trajectory(seed):
        env = make_env("microgrid")
        policies = references(env)
        observations, _ = env.reset(seed=seed)
        steps = [env.state()]
        while env.agents:
            observations, rewards, _, truncated, _ = env.step(
                {aid: policies[aid].forward(observations[aid]) for aid in env.agents})
            steps.append(np.append(env.state(), list(rewards.values())))
            if truncated["__all__"]:
                break
        return np.concatenate(steps)

    assert np.array_equal(trajectory(7), trajectory(7))
    assert not np.array_equal(trajectory(7), trajectory(8))


def test_the_feeder_budget_reaches_every_battery_every_step():
    env = make_env("microgrid", num_coordinators=2, batteries_per_coordinator=3)
    assert env.possible_agents == ["generator_0", "feeder_0", "feeder_1"]  # batteries take no action of their own
    env.reset(seed=1)
    rng = np.random.default_rng(0)
    for _ in range(12):
        budgets = {feeder: float(rng.uniform(-0.2, 0.2)) for feeder in ("feeder_0", "feeder_1")}
        env.step({**{feeder: [budget] for feeder, budget in budgets.items()}, "generator_0": [0]})
        for feeder, budget in budgets.items():
            for index in range(3):
                battery = env.agent(f"{feeder}_battery_{index}")
                assert battery.action.c[0] == pytest.approx(budget)
                assert battery.state.features["BatteryFlow"].power == pytest.approx(budget * battery.power)


def test_visibility_each_agent_sees_its_part():
    env = make_env("microgrid", batteries_per_coordinator=2)
    observations, _ = env.reset(seed=0)
    feeder, generator = observations["feeder_0"], observations["generator_0"]
    assert list(feeder.local) == ["FeederFeature", "feeder_0_battery_0.BatteryFeature",
                                  "feeder_0_battery_1.BatteryFeature"]
    assert list(generator.local) == ["GeneratorFeature"]
    assert list(feeder.global_info) == list(generator.global_info) == [f"{GRID_OPERATOR}.GridFeature"]
    operator = env.observe(GRID_OPERATOR).local
    assert {"feeder_0.LedgerFeature", "feeder_1.LedgerFeature", "generator_0.LedgerFeature"} <= set(operator)
    assert not any("Load" in key or "Solar" in key or "Flow" in key for key in operator)


def test_the_reference_needs_named_observation_entries():
    env = make_env("microgrid")
    observations, _ = env.reset(seed=0)
    with pytest.raises(ObservationError, match="reads named observation entries; give it an Observation"):
        microgrid_reference().forward(observations["feeder_0"].vector())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_coordinators": 0}, "microgrid num_coordinators must be a positive integer, got 0"),
        ({"batteries_per_coordinator": 0}, "microgrid batteries_per_coordinator must be a positive integer, got 0"),
        ({"loads_per_coordinator": -1}, "microgrid loads_per_coordinator must be a non-negative integer, got -1"),
        ({"num_generators": 1.5}, "microgrid num_generators must be a positive integer, got 1.5"),
        ({"battery_efficiency": 1.5}, "microgrid battery_efficiency must be a number in (0, 1], got 1.5"),
        ({"line_capacity": 0}, "microgrid line_capacity must be a positive number, got 0"),
        ({"generator_ramp": "fast"}, "microgrid generator_ramp must be a number in (0, 1], got 'fast'"),
        ({"wear_cost": -0.1}, "microgrid wear_cost must be a non-negative number, got -0.1"),
        ({"observation_mode": "all"}, "microgrid observation_mode: unknown observation_mode 'all'"),
        ({"num_feeders": 3}, "environment 'microgrid' has no argument 'num_feeders'"),
    ],
)
def test_bad_arguments_are_one_line_config_errors(kwargs, message):
    with pytest.raises(ConfigError) as raised:
        make_env("microgrid", **kwargs)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_robustness_sweep_runs_on_the_microgrid():
    env = make_env("microgrid")
    result = robustness_sweep(env, references(env), "obs_delay", [0.0, 3.0], episodes=2, seed=5)
    assert result.t_end == 24.0 and len(result.sync_returns) == 2
    assert all(np.isfinite(result.means))
    assert result.means[1] < result.means[0]  # the reference acts on a forecast three hours old


def test_hundreds_of_agents_step_in_one_env():
    env = make_env("microgrid", num_coordinators=40, num_generators=5)
    assert len(env.all_agents) == 40 * 7 + 5 + 1 and len(env.possible_agents) == 45
    returns = run_episode(env, references(env), seed=0)
    assert len(returns) == 45 and all(np.isfinite(list(returns.values())))
