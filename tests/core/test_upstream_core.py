"""Upstream HERON's core API: Feature names and visibility, State classes, Action extras, array-like Observation."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import pytest

from heron.agents.constants import COORDINATOR_LEVEL, FIELD_LEVEL, SYSTEM_LEVEL
from heron.core import (
    Action,
    ActionError,
    ConfigError,
    CoordinatorAgentState,
    Feature,
    FieldAgentState,
    Observation,
    SimulationError,
    State,
    SystemAgentState,
)
from heron.utils.typing import AgentID, MultiAgentDict


@dataclass(slots=True)
class BatterySoc(Feature):
    visibility: ClassVar[Sequence[str]] = ["owner", "upper_level"]
    soc: float = 0.5
    capacity: float = 100.0

    def set_values(self, **kwargs: Any) -> None:  # upstream's override form: validates by clipping
        if "soc" in kwargs:
            self.soc = float(np.clip(kwargs.pop("soc"), 0.0, 1.0))
        Feature.set_values(self, **kwargs)


@dataclass(slots=True)
class BusVoltage(Feature):
    visibility: ClassVar[Sequence[str]] = ["public"]
    pu: float = 1.0


@dataclass
class Secret(Feature):
    visibility: ClassVar[Sequence[str]] = ["owner"]
    code: float = 7.0


@dataclass
class Telemetry(Feature):
    visibility: ClassVar[Sequence[str]] = ["owner", "system"]
    health: float = 0.9


@dataclass
class Required(Feature):
    x: float
    profile: list = field(default_factory=lambda: [1.0, 2.0])


# ------------------------------------------------------------------ features
def test_feature_name_is_the_class_name_unless_the_instance_is_renamed():
    plain, renamed = BusVoltage(), BusVoltage(pu=2.0).set_feature_name("BusVoltage_b")
    assert (plain.feature_name, plain.name) == ("BusVoltage", "BusVoltage")
    assert (renamed.feature_name, renamed.name) == ("BusVoltage_b", "BusVoltage_b")
    assert BusVoltage().feature_name == "BusVoltage"
    for bad in ("", "a.b", 3):
        with pytest.raises(ConfigError, match=re.escape("a feature name must be a non-empty string without '.'")):
            BusVoltage().set_feature_name(bad)


def test_names_to_dict_and_from_dict():
    charge = BatterySoc(soc=0.8)
    assert charge.names() == ["soc", "capacity"]
    assert charge.to_dict() == {"soc": 0.8, "capacity": 100.0}
    rebuilt = BatterySoc.from_dict({"capacity": 120.0})
    assert (rebuilt.soc, rebuilt.capacity) == (0.5, 120.0)
    message = "BatterySoc has no field(s) ['temp']; its fields are ['soc', 'capacity']"
    with pytest.raises(ConfigError, match=re.escape(message)):
        BatterySoc.from_dict({"temp": 1.0})
    with pytest.raises(ConfigError, match=re.escape("from_dict expects a {field: value} dict, got 3")):
        BatterySoc.from_dict(3)


def test_reset_restores_defaults_then_applies_overrides_through_the_set_values_override():
    charge = BatterySoc(soc=0.9, capacity=50.0)
    assert charge.reset(soc=7.0) is charge
    assert (charge.soc, charge.capacity) == (1.0, 100.0)  # clipped by the override
    required = Required(x=1.0, profile=[5.0])
    required.reset(x=2.0)
    assert (required.x, required.profile) == (2.0, [1.0, 2.0])
    with pytest.raises(ConfigError, match=r"field 'x' has no default to reset to; pass reset\(x=\.\.\.\)"):
        required.reset()


def test_a_field_named_like_a_feature_method_is_refused():
    class Shadow(Feature):
        values: float = 1.0

    with pytest.raises(ConfigError, match=r"feature Shadow: field\(s\) \['values'\] would hide Feature's attribute"):
        Shadow()


@pytest.mark.parametrize(
    ("feature", "expected"),
    [
        (BusVoltage(), [True, True, True, True]),
        (Secret(), [True, False, False, False]),
        (BatterySoc(), [True, False, True, False]),
        (Telemetry(), [True, False, False, True]),
    ],
    ids=["public", "owner", "owner+upper_level", "owner+system"],
)
def test_is_observable_by_follows_the_visibility_levels(feature, expected):
    requestors = [("f0", FIELD_LEVEL), ("f1", FIELD_LEVEL), ("zone", COORDINATOR_LEVEL), ("sys", SYSTEM_LEVEL)]
    seen = [feature.is_observable_by(rid, level, "f0", FIELD_LEVEL) for rid, level in requestors]
    assert seen == expected


def test_upper_level_means_the_direct_superior_when_it_is_known():
    charge = BatterySoc()
    assert charge.is_observable_by("zone_a", COORDINATOR_LEVEL, "f0", FIELD_LEVEL, upper_id="zone_a")
    assert not charge.is_observable_by("zone_b", COORDINATOR_LEVEL, "f0", FIELD_LEVEL, upper_id="zone_a")
    # a field agent directly under the system agent: its superior is the system agent
    assert charge.is_observable_by("sys", SYSTEM_LEVEL, "f0", FIELD_LEVEL, upper_id="sys")
    assert not charge.is_observable_by("sys", SYSTEM_LEVEL, "f0", FIELD_LEVEL)


def test_is_observable_by_needs_integer_levels():
    with pytest.raises(ConfigError, match=r"requestor_level must be an integer hierarchy level.*got 'system'"):
        BusVoltage().is_observable_by("sys", "system", "f0", FIELD_LEVEL)


# -------------------------------------------------------------------- states
def test_state_classes_match_the_agent_levels():
    assert (FieldAgentState.level, CoordinatorAgentState.level, SystemAgentState.level) == (
        FIELD_LEVEL, COORDINATOR_LEVEL, SYSTEM_LEVEL,
    )
    assert FieldAgentState("f0").owner_level == FIELD_LEVEL
    assert State("x", 4).owner_level == 4
    with pytest.raises(ConfigError, match="state of a level-1 agent, but 'f0' has owner_level=2;"):
        FieldAgentState("f0", 2)
    with pytest.raises(ConfigError, match="State of 'x' needs owner_level"):
        State("x")
    with pytest.raises(ConfigError, match="owner_id must be a non-empty string, got"):
        FieldAgentState(["f0"])


def test_state_features_from_a_list_or_a_dict_keyed_by_feature_name():
    second = BusVoltage().set_feature_name("BusVoltage_b")
    by_list = FieldAgentState("f0", features=[BatterySoc(), BusVoltage(), second])
    assert list(by_list.features) == ["BatterySoc", "BusVoltage", "BusVoltage_b"]
    by_dict = FieldAgentState(owner_id="f0", owner_level=1, features={"BatterySoc": BatterySoc()})
    assert list(by_dict.features) == ["BatterySoc"]
    by_dict.features = {"BusVoltage": BusVoltage()}
    assert list(by_dict.features) == ["BusVoltage"]
    with pytest.raises(ConfigError, match=r"features\['V'\] holds feature 'BusVoltage'; key features by their"):
        by_dict.features = {"V": BusVoltage()}
    with pytest.raises(ConfigError, match="has two features named 'BusVoltage'; give one another name"):
        FieldAgentState("f0", features=[BusVoltage(), BusVoltage()])
    with pytest.raises(ConfigError, match=r"features\['BusVoltage'\] is 1.0, not a Feature instance"):
        FieldAgentState("f0", features={"BusVoltage": 1.0})


def test_observed_by_filters_by_visibility_and_knows_the_superior():
    state = FieldAgentState("f0", features=[BatterySoc(soc=0.8), Secret(), BusVoltage()])
    np.testing.assert_array_equal(state.vector(), [0.8, 100.0, 7.0, 1.0])
    seen = state.observed_by("zone", COORDINATOR_LEVEL)
    assert list(seen) == ["BatterySoc", "BusVoltage"] and seen["BatterySoc"].dtype == np.float32
    assert list(state.observed_by("f0", FIELD_LEVEL)) == ["BatterySoc", "Secret", "BusVoltage"]
    assert list(state.observed_by("f1", FIELD_LEVEL)) == ["BusVoltage"]
    state.upper_id = "zone_a"
    assert list(state.observed_by("zone", COORDINATOR_LEVEL)) == ["BusVoltage"]
    assert list(state.observed_by("zone_a", COORDINATOR_LEVEL)) == ["BatterySoc", "BusVoltage"]


def test_updates_go_through_each_features_set_values_override():
    state = FieldAgentState("f0", features=[BatterySoc(), BusVoltage()])
    state.update_feature("BatterySoc", soc=3.0)
    assert state.features["BatterySoc"].soc == 1.0
    state.update({"BatterySoc": {"soc": -1.0, "capacity": 80.0}, "BusVoltage": {"pu": 0.97}})
    soc, bus = state.features["BatterySoc"], state.features["BusVoltage"]
    assert (soc.soc, soc.capacity, bus.pu) == (0.0, 80.0, 0.97)
    message = "agent 'f0' has no feature 'Temp'; its features are ['BatterySoc', 'BusVoltage']"
    with pytest.raises(SimulationError, match=re.escape(message)):
        state.update_feature("Temp", t=1.0)
    with pytest.raises(SimulationError, match=re.escape("'BusVoltage': expected a {field: value} dict, got None")):
        state.update({"BusVoltage": None})
    with pytest.raises(SimulationError, match="has no field 'volts'"):
        state.update({"BusVoltage": {"volts": 1.0}})


def test_state_reset_restores_defaults_then_overrides():
    state = FieldAgentState("f0", features=[BatterySoc(soc=0.9), BusVoltage(pu=0.9)])
    state.reset({"BusVoltage": {"pu": 1.05}})
    assert (state.features["BatterySoc"].soc, state.features["BusVoltage"].pu) == (0.5, 1.05)


def test_state_dict_round_trip_rebuilds_the_state_class_and_features():
    state = CoordinatorAgentState("zone", features=[BatterySoc(soc=0.75), BusVoltage()])
    data = state.to_dict(include_metadata=True)
    assert data == {
        "_owner_id": "zone", "_owner_level": 2, "_state_type": "CoordinatorAgentState",
        "features": {"BatterySoc": {"soc": 0.75, "capacity": 100.0}, "BusVoltage": {"pu": 1.0}},
    }
    assert state.to_dict() == data["features"]
    for cls in (State, CoordinatorAgentState):
        rebuilt = cls.from_dict(data)
        assert type(rebuilt) is CoordinatorAgentState and rebuilt.owner_id == "zone"
        assert rebuilt.to_dict(include_metadata=True) == data
    with pytest.raises(ConfigError, match=r"_state_type 'CoordinatorAgentState' is not FieldAgentState"):
        FieldAgentState.from_dict(data)
    with pytest.raises(ConfigError, match=r"expects the dict of to_dict\(include_metadata=True\)"):
        State.from_dict(data["features"])


def test_from_dict_refuses_feature_names_it_cannot_resolve():
    data = {"_owner_id": "f0", "_owner_level": 1, "features": {"BusVoltage_b": {"pu": 1.0}}}
    with pytest.raises(ConfigError, match="no Feature subclass named 'BusVoltage_b' is defined"):
        FieldAgentState.from_dict(data)

    def define(where):
        twin = dataclass(type("Twin", (Feature,), {"__annotations__": {"pu": float}, "pu": 1.0, "__qualname__": where}))
        return twin

    define("first.Twin")  # two classes of one name, in different places
    define("second.Twin")
    data["features"] = {"Twin": {"pu": 1.0}}
    with pytest.raises(ConfigError, match="several Feature subclasses are named 'Twin'"):
        FieldAgentState.from_dict(data)


# ------------------------------------------------------------------- actions
def power(dim=2):
    return Action("gen").set_specs(dim_c=dim, range=(np.zeros(dim), np.full(dim, 100.0)))


def mixed():
    return Action("gen").set_specs(dim_c=1, ncats=[2], range=([0.0], [100.0]))


def test_sample_with_a_seed_is_reproducible_and_restarts_the_actions_own_stream():
    first, second = power(), power()
    np.testing.assert_array_equal(first.sample(seed=0).c, second.sample(0).c)  # upstream's positional seed too
    np.testing.assert_array_equal(first.sample().c, second.sample().c)
    np.testing.assert_array_equal(power().sample(seed=0).c, power().sample(np.random.default_rng(0)).c)
    with pytest.raises(ConfigError, match="sample seed must be a non-negative integer, got -1"):
        power().sample(seed=-1)
    with pytest.raises(ConfigError, match="takes rng or seed, not both"):
        power().sample(np.random.default_rng(0), seed=1)
    with pytest.raises(ConfigError, match="needs a numpy Generator or an int seed, got 'x'"):
        power().sample("x")


def test_space_is_a_cached_property_and_mixed_heads_keep_discrete_for_one_head():
    action = mixed()
    space = action.space
    assert space is action.space
    assert space == gym.spaces.Dict({"c": gym.spaces.Box(0.0, 100.0, (1,), np.float32), "d": gym.spaces.Discrete(2)})
    action.set_values(c=[30.0], d=[1])
    assert space.contains(action.to_space_value())
    action.set_values(space.sample())
    two_heads = Action("g").set_specs(dim_c=1, ncats=[2, 3], range=([0.0], [1.0]))
    assert isinstance(two_heads.space["d"], gym.spaces.MultiDiscrete)
    assert two_heads.space.contains(two_heads.to_space_value())


@pytest.mark.parametrize(
    ("space", "dims"),
    [
        (gym.spaces.Box(-1.0, 1.0, (3,)), (3, 0, ())),
        (gym.spaces.Discrete(5), (0, 1, (5,))),
        (gym.spaces.MultiDiscrete([3, 4]), (0, 2, (3, 4))),
        (gym.spaces.Dict({"c": gym.spaces.Box(0.0, 10.0, (2,)), "d": gym.spaces.Discrete(3)}), (2, 1, (3,))),
    ],
)
def test_from_gym_space(space, dims):
    action = Action.from_gym_space(space)
    assert (action.dim_c, action.dim_d, action.ncats) == dims
    assert action.space == space


def test_from_gym_space_refuses_what_it_cannot_represent():
    with pytest.raises(ConfigError, match="its indices must start at 0"):
        Action.from_gym_space(gym.spaces.Discrete(3, start=1))
    with pytest.raises(ConfigError, match=r"cannot build an Action from space .*expected a Box, Discrete"):
        Action.from_gym_space(gym.spaces.Dict({"c": gym.spaces.Box(0.0, 1.0, (1,))}))


def test_reset_sets_the_middle_of_the_range_then_overrides():
    action = mixed()
    action.set_values(c=[90.0], d=[1])
    assert action.reset() is action
    assert (action.c.tolist(), action.d.tolist()) == ([50.0], [0])
    action.reset(c=[20.0])
    assert (action.c.tolist(), action.d.tolist()) == ([20.0], [0])
    action.reset([10.0, 1])
    assert (action.c.tolist(), action.d.tolist()) == ([10.0], [1])
    assert power().c.tolist() == [50.0, 50.0]  # a new specification starts neutral too


def test_scale_unscale_scalar_is_valid():
    action = power().set_values(c=[25.0, 75.0])
    np.testing.assert_allclose(action.scale(), [-0.5, 0.5])
    np.testing.assert_allclose(action.unscale([0.0, 3.0]), [50.0, 100.0])  # clipped like set_values
    assert (action.scalar(0), action.scalar(1)) == (50.0, 100.0)
    with pytest.raises(ActionError, match=r"gen: scalar\(2\) needs an index in \[0, dim_c=2\)"):
        action.scalar(2)
    with pytest.raises(ActionError, match="normalized continuous action has 1 value"):
        action.unscale([0.0])
    with pytest.raises(ActionError, match="normalized continuous action contains NaN"):
        action.unscale([np.nan, 0.0])
    assert action.is_valid() and not Action().is_valid()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda a: a.set_values(c=[30.0]), "got only c. Upstream HERON kept the previous d"),
        (lambda a: a.set_values({"c": [30.0]}), "got only c"),
        (lambda a: a.set_values(d=[1]), "got only d. Upstream HERON kept the previous c"),
        (lambda a: a.set_values(power(1).set_values(c=[1.0])), r"discrete action has 0 value\(s\), expected 1"),
        (lambda a: a.set_values([30.0]), r"expected 2 \(dim_c=1 continuous values then dim_d=1 discrete indices\)"),
    ],
    ids=["c only", "dict without d", "d only", "continuous Action", "flat of dim_c"],
)
def test_a_mixed_action_without_one_of_its_parts_is_an_error_and_changes_nothing(call, message):
    action = mixed().set_values(c=[70.0], d=[1])
    with pytest.raises(ActionError, match=message):
        call(action)
    assert (action.c.tolist(), action.d.tolist()) == ([70.0], [1])


# -------------------------------------------------------------- observations
def test_observation_behaves_as_its_full_vector():
    obs = Observation(local={"a": np.array([0.8, 100.0])}, global_info={"b": 0.98}, timestamp=1.0)
    assert obs.shape == (3,) and len(obs) == 3 and obs.dtype == np.float32
    assert obs[0] == pytest.approx(0.8) and obs[-1] == pytest.approx(0.98)
    np.testing.assert_array_equal(np.asarray(obs), obs.vector())
    assert np.asarray(obs, dtype=np.float64).dtype == np.float64


def test_typing_aliases():
    rewards: MultiAgentDict = {AgentID("room_a"): 1.0}
    assert MultiAgentDict == dict[str, Any] and rewards == {"room_a": 1.0}
