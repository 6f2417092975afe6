"""Agents, envs and the builder written the way upstream HERON's tutorials write them.

Upstream's agents override ``init_action(self, features=[])``, ``set_action(self, action, *args, **kwargs)``,
``set_state(self, **kwargs)``, ``apply_action(self)`` and ``compute_local_reward(self, local_state,
prev_post_physics_state=None)``; features may override ``set_values(self, **kwargs)``. These tests check
that the env calls each of them only as documented, and the upstream constructors and builder calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pytest

from heron.agents import (
    COORDINATOR_LEVEL,
    FIELD_LEVEL,
    SYSTEM_AGENT_ID,
    SYSTEM_LEVEL,
    CoordinatorAgent,
    FieldAgent,
    SystemAgent,
)
from heron.core import Action, ConfigError, Feature, SimulationError
from heron.envs import BaseEnv, DefaultHeronEnv, EnvBuilder, build_env
from heron.scheduling import ScheduleConfig


@dataclass(slots=True)
class Level(Feature):
    """A tank level in [0, 100]; ``set_values`` clips, as upstream's tutorial features do."""

    visibility: ClassVar[Sequence[str]] = ["public"]
    level: float = 50.0
    capacity: float = 100.0

    def set_values(self, **kwargs: Any) -> None:
        if "level" in kwargs:
            self.level = float(min(max(kwargs["level"], 0.0), 100.0))
        if "capacity" in kwargs:
            self.capacity = float(kwargs["capacity"])


class Pump(FieldAgent):
    """Upstream's tutorial agent, recording how the env calls it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.calls: list[tuple[str, tuple]] = []
        super().__init__(*args, **kwargs)

    def init_action(self, features: list[Feature] = []) -> Action:  # noqa: B006 - upstream's signature
        action = Action()
        action.set_specs(dim_c=1, range=(np.array([-1.0]), np.array([1.0])))
        return action

    def set_action(self, action: Any, *args: Any, **kwargs: Any) -> None:
        self.calls.append(("set_action", args, tuple(kwargs)))
        self.action.set_values(action)

    def set_state(self, **kwargs: Any) -> None:
        self.calls.append(("set_state", (), tuple(kwargs)))

    def apply_action(self) -> None:
        feature = self.state.features["Level"]
        feature.set_values(level=feature.level + self.action.c[0] * 10.0)

    def compute_local_reward(self, local_state: dict, prev_post_physics_state: Any = None) -> float:
        self.calls.append(("compute_local_reward", (prev_post_physics_state,), ()))
        return -abs(float(local_state["Level"][0]) - 70.0)


def drain(agent_states: dict) -> dict:
    """Upstream's dict-in/dict-out simulation: every tank loses 30 units (the feature clips at 0)."""
    for features in agent_states.values():
        if "Level" in features:
            features["Level"]["level"] -= 30.0
    return agent_states


def pumps(*ids: str, **kwargs: Any) -> list[Pump]:
    return [Pump(agent_id=aid, features=[Level()], **kwargs) for aid in ids]


def upstream_env(simulation=drain, **kwargs: Any) -> DefaultHeronEnv:
    a, b = pumps("tank_a", "tank_b")
    return DefaultHeronEnv(
        agents=[SystemAgent(), CoordinatorAgent(agent_id="plant"), a, b],
        hierarchy={"system_agent": ["plant"], "plant": ["tank_a", "tank_b"]},
        simulation_func=simulation,
        env_id="tanks",
        **kwargs,
    )


# ------------------------------------------------------------ how the env calls the overrides
def test_the_env_calls_each_upstream_override_only_with_its_documented_arguments():
    env = upstream_env()
    env.reset(seed=0)
    env.step({"tank_a": [1.0], "tank_b": [-1.0]})
    calls = env.agent("tank_a").calls
    assert ("set_action", (), ()) in calls
    assert ("compute_local_reward", (None,), ()) in calls  # one positional argument: the default stays None
    assert not [call for call in calls if call[0] == "set_state"]  # the user's hook; the env never calls it


def test_simulation_results_go_through_the_feature_set_values_override_with_keywords():
    env = upstream_env()
    env.reset(seed=0)
    obs, *_ = env.step({"tank_a": [1.0], "tank_b": [-1.0]})
    assert obs["tank_a"].local["Level"].tolist() == [30.0, 100.0]  # 50 + 10 - 30
    assert obs["tank_b"].local["Level"].tolist() == [10.0, 100.0]  # 50 - 10 - 30
    _, rewards, *_ = env.step({"tank_a": [-1.0], "tank_b": [-1.0]})
    assert env.agent("tank_b").state.features["Level"].level == 0.0  # 10 - 10 - 30 = -30, clipped by the override
    assert rewards == {"tank_a": -70.0, "tank_b": -70.0}


def test_reset_restores_the_constructed_values_through_the_override():
    env = upstream_env()
    env.reset(seed=0)
    env.step({"tank_a": [1.0], "tank_b": [1.0]})
    env.reset(seed=1)
    assert env.agent("tank_a").state.features["Level"].level == 50.0


def test_the_default_set_state_sets_fields_by_name_and_names_the_agent_on_a_bad_name():
    @dataclass
    class Valve(Feature):
        opening: float = 0.0

    class Plain(FieldAgent):
        def init_action(self, features):
            return Action().set_specs(dim_c=1, range=(-1.0, 1.0))

        def apply_action(self):
            pass

        def compute_local_reward(self, local_state):
            return 0.0

    agent = Plain("tank", [Level(), Valve()])
    agent.set_state(level=120.0, opening=0.5)
    assert agent.state.features["Level"].level == 100.0  # through Level.set_values
    assert agent.state.features["Valve"].opening == 0.5
    with pytest.raises(SimulationError, match=r"agent 'tank': set_state\(pressure=\.\.\.\) names a field of no "):
        agent.set_state(pressure=1.0)


def test_an_instance_level_reward_override_is_used_for_a_coordinator_too():
    env = upstream_env()
    env.reset(seed=0)
    env.agent("plant").compute_local_reward = lambda local_state: 5.0
    env.step({"tank_a": [0.0], "tank_b": [0.0]})
    assert env.agent("plant").last_reward == 5.0
    assert env.agent(SYSTEM_AGENT_ID).last_reward == 5.0  # the default: the sum of its subordinates'


# -------------------------------------------------------------------------- constructors
def test_agent_constructors_take_upstreams_keywords():
    schedule = ScheduleConfig.deterministic(tick_interval=3.0)
    (tank,) = pumps("tank", schedule_config=schedule)
    assert tank.schedule_config is schedule
    assert Pump(agent_id="empty", features=None).state.features == {}
    system = SystemAgent()
    assert system.agent_id == SYSTEM_AGENT_ID == "system_agent"
    coordinator = CoordinatorAgent(agent_id="plant", subordinates={"tank": tank})
    assert coordinator.subordinates == {"tank": tank}
    assert tank.upper is coordinator and tank.state.upper_id == "plant"
    assert (FieldAgent.level, CoordinatorAgent.level, SystemAgent.level) == (1, 2, 3)
    assert (FIELD_LEVEL, COORDINATOR_LEVEL, SYSTEM_LEVEL) == (1, 2, 3)
    with pytest.raises(ConfigError, match=r"key 'x' holds agent 'tank'"):
        CoordinatorAgent(agent_id="plant", subordinates={"x": tank})


def test_readme_form_coordinator_agents_gets_a_system_agent_on_top():
    a, b = pumps("room_0", "room_1")
    coordinator = CoordinatorAgent(agent_id="bldg", subordinates={agent.agent_id: agent for agent in (a, b)})
    env = DefaultHeronEnv(coordinator_agents=[coordinator], simulation_func=drain)
    assert list(env.registered_agents) == ["room_0", "room_1", "bldg", "system_agent"]
    assert env.registered_agents is env.all_agents
    assert env.possible_agents == ["room_0", "room_1"]
    assert list(env.agent("system_agent").subordinates) == ["bldg"]


def test_agents_and_hierarchy_form_orders_agents_bottom_up_whatever_the_listing_order():
    env = upstream_env()
    assert list(env.registered_agents) == ["tank_a", "tank_b", "plant", "system_agent"]
    assert env.agent("plant").upper is env.agent("system_agent")


def test_parentless_agents_go_under_the_system_agent_unless_its_children_are_listed():
    a, b = pumps("tank_a", "tank_b")
    env = DefaultHeronEnv(agents=[a, b], simulation_func=drain)
    assert list(env.agent("system_agent").subordinates) == ["tank_a", "tank_b"]
    c, d = pumps("tank_c", "tank_d")
    with pytest.raises(ConfigError, match=r"agent\(s\) \['tank_d'\] have no parent; name them in hierarchy"):
        DefaultHeronEnv(agents=[SystemAgent(), c, d], hierarchy={"system_agent": ["tank_c"]})


@pytest.mark.parametrize(
    ("hierarchy", "message"),
    [
        ({"system_agent": ["plant"], "plant": ["tank_a", "tank_z"]}, r"hierarchy names unknown agent\(s\) \['tank_z"),
        ({"system_agent": ["plant", "tank_a"], "plant": ["tank_a", "tank_b"]},
         r"agent 'tank_a' has two parents, 'system_agent' and 'plant'"),
        ({"system_agent": ["plant"], "plant": ["tank_a"], "tank_a": ["tank_b"]}, r"field agent 'tank_a' cannot have"),
        ({"plant": ["tank_a", "tank_b", "system_agent"]}, r"the system agent 'system_agent' is the top"),
        ({"system_agent": ["plant"], "plant": "tank_a"}, r"hierarchy\['plant'\] must be a list of agent ids"),
    ],
)
def test_a_bad_hierarchy_is_a_config_error_naming_the_env(hierarchy, message):
    a, b = pumps("tank_a", "tank_b")
    with pytest.raises(ConfigError, match=rf"^env 'tanks': {message}"):
        DefaultHeronEnv(agents=[SystemAgent(), CoordinatorAgent("plant"), a, b], hierarchy=hierarchy, env_id="tanks")


def test_a_cycle_of_coordinators_is_an_error():
    one, two = CoordinatorAgent("one"), CoordinatorAgent("two")
    with pytest.raises(ConfigError, match=r"hierarchy has a cycle through \['one', 'two'\]"):
        DefaultHeronEnv(agents=[SystemAgent(), one, two, *pumps("tank")], hierarchy={
            "system_agent": ["tank"], "one": ["two"], "two": ["one"]})


def test_duplicate_ids_two_system_agents_and_conflicting_links_are_errors():
    with pytest.raises(ConfigError, match=r"duplicate agent id 'tank'"):
        DefaultHeronEnv(agents=[*pumps("tank"), *pumps("tank")])
    with pytest.raises(ConfigError, match=r"more than one system agent: \['system_agent', 'top'\]"):
        DefaultHeronEnv(agents=[SystemAgent(), SystemAgent("top"), *pumps("tank")])
    a, b = pumps("tank_a", "tank_b")
    plant = CoordinatorAgent("plant", subordinates=[a])
    with pytest.raises(ConfigError, match=r"gives 'plant' the subordinates \['tank_b'\], but it was built with"):
        DefaultHeronEnv(agents=[plant, b], hierarchy={"plant": ["tank_b"]})


# ------------------------------------------------------------------ BaseEnv, upstream's bridge
@dataclass
class TankSystemState:
    levels: dict[str, float]


class TankEnv(BaseEnv):
    """A BaseEnv subclass built the upstream way: the three-method bridge over upstream's global state."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.seen: list[Any] = []
        self.pre_steps = 0
        super().__init__(*args, **kwargs)

    def pre_step(self) -> None:
        self.pre_steps += 1

    def global_state_to_env_state(self, global_state: dict) -> TankSystemState:
        self.seen.append(global_state)
        states = global_state["agent_states"]
        return TankSystemState({aid: s["features"]["Level"]["level"] for aid, s in states.items() if s["features"]})

    def run_simulation(self, env_state: TankSystemState, *args: Any, **kwargs: Any) -> TankSystemState:
        env_state.levels = {aid: level * 0.5 for aid, level in env_state.levels.items()}
        return env_state

    def env_state_to_global_state(self, env_state: TankSystemState) -> dict:
        return {"agent_states": {
            aid: {"_owner_id": aid, "_owner_level": FIELD_LEVEL, "_state_type": "FieldAgentState",
                  "features": {"Level": {"level": level}}}
            for aid, level in env_state.levels.items()
        }}


def tank_env(cls: type[TankEnv] = TankEnv) -> TankEnv:
    a, b = pumps("tank_a", "tank_b")
    return cls(agents=[SystemAgent(), CoordinatorAgent("plant"), a, b],
               hierarchy={"system_agent": ["plant"], "plant": ["tank_a", "tank_b"]}, env_id="tanks")


def test_a_base_env_subclass_gets_upstreams_global_state_and_its_result_is_written_back():
    env = tank_env()
    env.reset(seed=0)
    obs, *_ = env.step({"tank_a": [1.0], "tank_b": [0.0]})
    assert obs["tank_a"].local["Level"][0] == pytest.approx(30.0)  # (50 + 10) / 2
    assert env.pre_steps == 1
    entry = env.seen[0]["agent_states"]["tank_a"]
    assert entry == {"_owner_id": "tank_a", "_owner_level": 1, "_state_type": "FieldAgentState",
                     "features": {"Level": {"level": 60.0, "capacity": 100.0}}}
    assert set(env.seen[0]["agent_states"]) == {"tank_a", "tank_b", "plant", "system_agent"}


@pytest.mark.parametrize(
    ("result", "message"),
    [
        ({"agent_states": {}, "extra": 1}, r"must return \{'agent_states'.*got \['agent_states', 'extra'\]"),
        ({"agent_states": {"tank_a": {"Level": {"level": 1.0}}}}, r"agent 'tank_a' must map to \{'features'"),
        ({"agent_states": {"tank_a": {"_owner_id": "tank_b", "features": {}}}}, r"_owner_id='tank_b', expected"),
        ({"agent_states": {"tank_a": {"_owner_level": 2, "features": {}}}}, r"_owner_level=2, expected 1"),
        ({"agent_states": {"tank_q": {"features": {}}}}, r"returned unknown agent 'tank_q'"),
    ],
)
def test_a_bridge_result_that_is_not_upstreams_global_state_is_an_error(result, message):
    class Broken(TankEnv):
        def env_state_to_global_state(self, env_state):
            return result

    env = tank_env(Broken)
    env.reset(seed=0)
    with pytest.raises(SimulationError, match=rf"^env 'tanks': env_state_to_global_state.*{message}"):
        env.step({"tank_a": [0.0], "tank_b": [0.0]})


def test_a_default_heron_env_subclass_that_overrides_the_bridge_is_not_bypassed():
    class Halving(DefaultHeronEnv):
        def env_state_to_global_state(self, env_state):
            for features in env_state.values():
                features["Level"]["level"] /= 2
            return super().env_state_to_global_state(env_state)

    a, b = pumps("tank_a", "tank_b")
    env = Halving(agents=[a, b], simulation_func=drain)
    env.reset(seed=0)
    obs, *_ = env.step({"tank_a": [0.0], "tank_b": [0.0]})
    assert obs["tank_a"].local["Level"][0] == pytest.approx(10.0)  # (50 - 30) / 2


# ---------------------------------------------------------------- coordinators and protocols
def test_a_coordinators_protocol_action_reaches_its_subordinates_on_every_step():
    a, b = pumps("tank_a", "tank_b")
    plant = CoordinatorAgent(agent_id="plant", protocol="vertical")
    env = DefaultHeronEnv(agents=[SystemAgent(), plant, a, b], hierarchy={"plant": ["tank_a", "tank_b"]},
                          simulation_func=None)
    env.reset(seed=0)
    assert env.possible_agents == ["plant"]
    for step in range(1, 4):
        obs, *_ = env.step({"plant": [0.5, -0.5]})
        assert a.state.features["Level"].level == pytest.approx(50.0 + 5.0 * step)
        assert b.state.features["Level"].level == pytest.approx(50.0 - 5.0 * step)
    assert set(obs) == {"plant"}


def test_a_coordinator_without_protocol_stays_observes_and_earns_the_sum_of_its_subordinates():
    env = upstream_env()
    env.reset(seed=0)
    _, rewards, *_ = env.step({"tank_a": [0.0], "tank_b": [0.0]})
    assert "plant" in env.registered_agents and "plant" not in env.possible_agents
    assert list(env.observe("plant").local) == ["tank_a.Level", "tank_b.Level"]
    assert env.agent("plant").last_reward == pytest.approx(rewards["tank_a"] + rewards["tank_b"])


def test_a_protocol_learns_the_subordinates_through_register_subordinates():
    from heron.protocols import VerticalProtocol

    seen = []

    class Recording(VerticalProtocol):
        def register_subordinates(self, subordinates):
            seen.append(sorted(subordinates))
            super().register_subordinates(subordinates)

    a, b = pumps("tank_a", "tank_b")
    CoordinatorAgent("plant", subordinates=[a, b], protocol=Recording())
    assert seen == [["tank_a", "tank_b"]]


# ------------------------------------------------------------------ errors from user code
class Faulty(Pump):
    fail_in = ""

    def apply_action(self) -> None:
        if self.fail_in == "apply_action":
            raise ZeroDivisionError("division by zero")
        super().apply_action()

    def compute_local_reward(self, local_state: dict, prev_post_physics_state: Any = None) -> float:
        if self.fail_in == "compute_local_reward":
            return local_state["Missing"]
        return super().compute_local_reward(local_state)

    def on_reset(self, rng: np.random.Generator) -> None:
        if self.fail_in == "on_reset":
            raise RuntimeError("no sensor")

    def set_action(self, action: Any, *args: Any, **kwargs: Any) -> None:
        if self.fail_in == "set_action":
            raise TypeError("unsupported action")
        super().set_action(action)


@pytest.mark.parametrize(
    ("method", "error", "note"),
    [
        ("apply_action", ZeroDivisionError, "(raised in Faulty.apply_action() of agent 'tank_b')"),
        ("compute_local_reward", KeyError, "(raised in Faulty.compute_local_reward(local_state) of agent 'tank_b')"),
        ("on_reset", RuntimeError, "(raised in Faulty.reset() (which calls on_reset(rng)) of agent 'tank_b')"),
        ("set_action", TypeError, "(raised in Faulty.set_action(action) of agent 'tank_b')"),
    ],
)
def test_an_error_in_an_agents_method_keeps_its_type_and_gets_a_note_naming_the_agent(method, error, note):
    a = Pump(agent_id="tank_a", features=[Level()])
    b = Faulty(agent_id="tank_b", features=[Level()])
    env = DefaultHeronEnv(agents=[a, b], simulation_func=drain)
    if method != "on_reset":
        env.reset(seed=0)
    b.fail_in = method
    with pytest.raises(error) as caught:
        env.reset(seed=0) if method == "on_reset" else env.step({"tank_a": [0.0], "tank_b": [0.0]})
    assert caught.value.__notes__ == [note]


def test_an_error_in_a_features_set_values_override_names_the_feature_and_the_agent():
    @dataclass(slots=True)
    class Strict(Feature):
        level: float = 50.0

        def set_values(self, **kwargs: Any) -> None:
            if kwargs["level"] < 30.0:
                raise ValueError("level below the pump inlet")
            self.level = kwargs["level"]

    env = DefaultHeronEnv(agents=[Pump(agent_id="tank", features=[Level(), Strict()])], simulation_func=lambda s: {
        "tank": {"Strict": {"level": 10.0}}})
    env.reset(seed=0)
    with pytest.raises(ValueError, match="below the pump inlet") as caught:
        env.step({"tank": [0.0]})
    assert caught.value.__notes__ == ["(raised in Strict.set_values(**fields) of agent 'tank')"]


def test_an_error_that_already_names_the_agent_gets_no_note_and_init_action_errors_are_noted():
    env = upstream_env()
    env.reset(seed=0)
    with pytest.raises(Exception) as caught:
        env.step({"tank_a": [np.nan], "tank_b": [0.0]})
    assert "tank_a" in str(caught.value)

    class NoSpec(Pump):
        def init_action(self, features=[]):  # noqa: B006
            raise ValueError("bad spec")

    with pytest.raises(ValueError, match="bad spec") as caught:
        NoSpec(agent_id="tank", features=[Level()])
    assert caught.value.__notes__ == ["(raised in NoSpec.init_action() of agent 'tank')"]


def test_the_builder_lets_a_constructor_error_through_with_a_note():
    class Picky(Pump):
        def __init__(self, agent_id, features=None, *, size):
            super().__init__(agent_id=agent_id, features=features)

    with pytest.raises(TypeError, match="size") as caught:
        EnvBuilder("tanks").add_agent("tank", Picky, features=[Level()]).build()
    assert "for agent 'tank'" in caught.value.__notes__[0]


# ------------------------------------------------------------------------------- builder
def sensors_env(builder: EnvBuilder) -> DefaultHeronEnv:
    return builder.simulation(drain).build()


def test_add_agents_numbers_the_ids_and_assigns_coordinators():
    env = sensors_env(
        EnvBuilder("tanks")
        .add_agents("a", Pump, count=2, features=[Level()], coordinator="zone_a")
        .add_agents("b", Pump, count=1, features=[Level()], coordinator="zone_b")
        .add_coordinator("zone_a")
        .add_coordinator("zone_b")
    )
    assert list(env.registered_agents) == ["a_0", "a_1", "b", "zone_a", "zone_b", "system_agent"]
    assert list(env.agent("zone_a").subordinates) == ["a_0", "a_1"]
    assert env.agent("a_0").state.features["Level"] is not env.agent("a_1").state.features["Level"]


def test_add_agent_by_class_and_agents_without_coordinator_sit_under_the_system_agent():
    env = sensors_env(
        EnvBuilder("tanks")
        .add_agent("tank_a", Pump, features=[Level(level=20.0)], coordinator="plant")
        .add_agent("tank_b", Pump, features=[Level(level=60.0)])
        .add_coordinator("plant")
    )
    assert list(env.agent("system_agent").subordinates) == ["plant", "tank_b"]
    obs, _ = env.reset(seed=0)
    assert obs["tank_a"].local["Level"][0] == 20.0


def test_add_coordinator_subordinates_take_ids_and_glob_patterns_and_a_pattern_must_match():
    builder = (EnvBuilder("tanks").add_agents("tank", Pump, count=3, features=[Level()])
               .add_coordinator("plant", subordinates=["tank_[01]"]))
    env = sensors_env(builder)
    assert list(env.agent("plant").subordinates) == ["tank_0", "tank_1"]
    assert list(env.agent("system_agent").subordinates) == ["plant", "tank_2"]
    with pytest.raises(ConfigError, match=r"coordinator 'pumps': subordinates entry 'pump_\*' names no field agent"):
        builder.add_coordinator("pumps", subordinates=["pump_*"]).build()


def test_add_system_agent_configures_the_system_agent():
    schedule = ScheduleConfig.deterministic(tick_interval=5.0)
    env = sensors_env(EnvBuilder("tanks").add_agents("s", Pump, count=2, features=[Level()])
                      .add_system_agent(schedule_config=schedule))
    system = env.registered_agents["system_agent"]
    assert isinstance(system, SystemAgent) and system.schedule_config is schedule


def test_each_build_constructs_fresh_agents_with_copies_of_the_features():
    builder = EnvBuilder("tanks").add_agent("tank", Pump, features=[Level()]).simulation(drain)
    first, second = builder.build(), builder.build()
    assert first.agent("tank") is not second.agent("tank")
    first.reset(seed=0)
    first.step({"tank": [1.0]})
    second.reset(seed=0)
    assert second.agent("tank").state.features["Level"].level == 50.0


def test_builder_object_forms_still_work():
    tank = Pump(agent_id="tank", features=[Level()])
    env = EnvBuilder("tanks").add_agent(tank, "plant").add_coordinator(CoordinatorAgent("plant")).build()
    assert env.agent("tank") is tank and tank.upper is env.agent("plant")


def test_env_config_coordinators_take_subordinates_and_the_system_defaults_to_system_agent():
    env = build_env({
        "agents": [{"agent_id": f"tank_{i}", "agent_cls": Pump, "features": [Level()]} for i in range(3)],
        "coordinators": [{"coordinator_id": "plant", "subordinates": ["tank_0", "tank_2"]}],
        "simulation": drain,
    })
    assert list(env.agent("plant").subordinates) == ["tank_0", "tank_2"]
    assert list(env.agent("system_agent").subordinates) == ["plant", "tank_1"]
