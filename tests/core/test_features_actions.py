"""Features, actions and observation flattening."""

from __future__ import annotations

from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
import pytest

from heron.core import Action, ActionError, ConfigError, Feature, Observation, ObservationError
from heron.core.errors import SimulationError
from heron.training import make_env


@dataclass
class Mixed(Feature):
    visibility = ["owner", "upper_level"]
    count: int = 2
    level: float = 0.5
    flag: bool = True
    profile: list = field(default_factory=lambda: [1.0, 2.0, 3.0])
    grid: np.ndarray = field(default_factory=lambda: np.array([[4.0, 5.0]]))
    scalar: np.float32 = field(default_factory=lambda: np.float32(6.0))


class Undecorated(Feature):
    visibility = ["public"]
    power: float = 1.5


def test_feature_vector_keeps_every_number_in_declaration_order():
    feature = Mixed()
    np.testing.assert_array_equal(feature.vector(), [2, 0.5, 1, 1, 2, 3, 4, 5, 6])
    assert feature.dim == 9
    assert feature.field_names == ("count", "level", "flag", "profile", "grid", "scalar")


def test_feature_without_dataclass_decorator_still_works():
    feature = Undecorated(power=3.0)
    np.testing.assert_array_equal(feature.vector(), [3.0])
    assert feature.visibility == ("public",)


def test_unflattenable_field_is_an_error_naming_it():
    feature = Mixed(profile=["a"])
    with pytest.raises(ObservationError, match=r"Mixed.profile\[0\]"):
        feature.vector()


def test_unknown_visibility_is_rejected_at_class_definition():
    with pytest.raises(ConfigError, match="unknown level"):

        class Bad(Feature):
            visibility = ["everyone"]
            x: float = 0.0


def test_setting_an_unknown_field_is_an_error():
    with pytest.raises(SimulationError, match="has no field 'temp'"):
        Undecorated().set_values({"temp": 1.0})
    with pytest.raises(SimulationError, match=r"^feature Undecorated: expected a \{field: value\} dict, got 21.0$"):
        Undecorated().set_values(21.0)


def test_values_are_copies():
    feature = Mixed()
    values = feature.values()
    values["profile"].append(9.0)
    assert feature.profile == [1.0, 2.0, 3.0]


# ------------------------------------------------------------------ actions
def continuous(dim=2):
    return Action("a").set_specs(dim_c=dim, range=(np.full(dim, -1.0), np.full(dim, 1.0)))


def test_action_clips_continuous_values_to_range():
    action = continuous().set_values(np.array([2.0, -0.5]))
    np.testing.assert_array_equal(action.c, [1.0, -0.5])


@pytest.mark.parametrize("value", [[0.3, -0.5], [3.0, -0.5]], ids=["within range", "clipped"])
def test_action_keeps_its_own_copy_of_the_callers_array(value):
    given = np.array(value)
    action = continuous().set_values(given)
    stored = action.c.copy()
    given[:] = 0.9
    np.testing.assert_array_equal(action.c, stored)


def test_action_range_is_read_only():
    action = continuous()
    with pytest.raises(ValueError, match="read-only"):
        action.range[0][0] = -5.0
    assert action.copy().range[1].tolist() == [1.0, 1.0]


@pytest.mark.parametrize("bad", [[0.1], [0.1, 0.2, 0.3]])
def test_action_of_wrong_length_is_neither_truncated_nor_broadcast(bad):
    with pytest.raises(ActionError, match="expected 2"):
        continuous().set_values(bad)


def one_room_action():
    return Action("room_a").set_specs(dim_c=1, range=(np.array([-1.0]), np.array([1.0])))


def mixed_action():
    return Action("pump").set_specs(dim_c=1, ncats=[3], range=(np.array([-1.0]), np.array([1.0])))


EXPECTED_ONE = r"expected 1 number\(s\) in \[-1, 1\]"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("0.5", rf"room_a: action '0.5' is a string; {EXPECTED_ONE}$"),
        (np.array(["0.5"]), rf"room_a: action array\(\['0.5'\], dtype='<U3'\) is a string; {EXPECTED_ONE}$"),
        (b"0.5", rf"room_a: action b'0.5' is a string \(bytes\); {EXPECTED_ONE}$"),
        (True, rf"room_a: action True is a boolean; {EXPECTED_ONE}$"),
        (False, rf"room_a: action False is a boolean; {EXPECTED_ONE}$"),
        (np.bool_(True), rf"room_a: action np.True_ is a boolean; {EXPECTED_ONE}$"),
        (np.array([True]), rf"room_a: action array\(\[ True\]\) is a boolean; {EXPECTED_ONE}$"),
        (1 + 2j, rf"room_a: action \(1\+2j\) is complex; {EXPECTED_ONE}$"),
        (np.complex128(0.5), rf"room_a: action np.complex128\(0.5\+0j\) is complex; {EXPECTED_ONE}$"),
        (np.array([[0.5]]), r"room_a: action has shape \(1, 1\); expected a number or a flat vector: "
                            r"1 number\(s\) in \[-1, 1\] \(received \[\[0.5\]\]\)$"),
        ([[0.5]], r"room_a: action has shape \(1, 1\)"),
        ([[0.5], 1], rf"room_a: action \[\[0.5\], 1\] is not numeric; {EXPECTED_ONE}$"),
        ([None], rf"room_a: action \[None\] is not numeric; {EXPECTED_ONE}$"),
        (np.array([0.5], dtype=object), r"room_a: action array\(\[0.5\], dtype=object\) is not numeric"),
        ({"c": "0.5"}, rf"room_a: continuous action '0.5' is a string; {EXPECTED_ONE}$"),
    ],
)
def test_strings_booleans_complex_and_2d_actions_are_refused_naming_agent_expected_and_received(bad, message):
    action = one_room_action().set_values([0.25])
    with pytest.raises(ActionError, match=message):
        action.set_values(bad)
    assert action.c.tolist() == [0.25]  # a refused value changes nothing


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ([0.1, True], r"pump: action \[0.1, True\] holds booleans; expected 1 number\(s\) in \[-1, 1\] then "
                      r"1 integer index\(es\) with ncats=\[3\], or \{'c': ..., 'd': ...\}$"),
        ({"c": [0.1], "d": True}, r"pump: discrete action True is a boolean; expected 1 integer index\(es\) with "
                                  r"ncats=\[3\]$"),
        ({"c": [0.1]}, r"pump: a mixed action needs both c \(1 value\(s\)\) and d \(1 index\(es\)\); got only c"),
        ({"d": 1}, r"pump: a mixed action needs both c \(1 value\(s\)\) and d \(1 index\(es\)\); got only d"),
        ([0.1], r"pump: action has 1 value\(s\), expected 2 \(dim_c=1 continuous values then dim_d=1 discrete "
                r"indices\) \(received \[0.1\]\)$"),
        (Action("other").set_specs(dim_c=1, range=(-1.0, 1.0)), r"pump: discrete action has 0 value\(s\), expected 1"),
    ],
)
def test_mixed_action_needs_its_discrete_part_as_integers(bad, message):
    action = mixed_action()
    with pytest.raises(ActionError, match=message):
        action.set_values(bad)
    with pytest.raises(ActionError, match="got only c"):
        action.set_values(c=[0.1])


@pytest.mark.parametrize(
    "good",
    [0.5, np.float32(0.5), np.float64(0.5), np.array(0.5), [0.5], (0.5,), np.array([0.5], dtype=np.float32),
     {"c": 0.5}],
    ids=["float", "float32", "float64", "0-d array", "list", "tuple", "float32 array", "dict"],
)
def test_numbers_of_any_float_type_and_flat_shapes_are_accepted(good):
    assert one_room_action().set_values(good).c.tolist() == [0.5]


@pytest.mark.parametrize("good", [[0.5, 2], [0.5, 2.0], np.array([0.5, 2.0]), {"c": [0.5], "d": np.int64(2)},
                                  {"c": np.float32(0.5), "d": 2}])
def test_mixed_action_takes_integer_valued_indices_of_any_numeric_type(good):
    action = mixed_action().set_values(good)
    assert action.c.tolist() == [0.5] and action.d.tolist() == [2]


def test_integers_are_accepted_for_continuous_and_discrete_actions():
    assert one_room_action().set_values(np.int64(1)).c.tolist() == [1.0]
    assert Action("d").set_specs(ncats=[3]).set_values(np.uint8(2)).d.tolist() == [2]


def test_the_env_names_the_agent_whose_action_is_refused():
    env = make_env("thermostat")
    env.reset(seed=0)
    with pytest.raises(ActionError, match=rf"^room_b: action '0.5' is a string; {EXPECTED_ONE}") as info:
        env.step({"room_a": 0.1, "room_b": "0.5"})
    assert info.value.__notes__ == ["(raised in Thermostat.set_action(action) of agent 'room_b')"]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_action_is_an_error(bad):
    with pytest.raises(ActionError, match=r"a: action contains NaN or infinity"):
        continuous().set_values([0.0, bad])
    with pytest.raises(ActionError, match=r"continuous action contains NaN or infinity"):
        continuous().set_values(c=np.array([bad, 0.0]))
    with pytest.raises(ActionError, match=r"discrete action contains NaN or infinity"):
        Action("d").set_specs(ncats=[3]).set_values(d=[bad])


def test_discrete_heads_clip_indices_to_their_categories_and_reject_fractions():
    action = Action("d").set_specs(ncats=[3, 2])
    action.set_values([2, 1])
    np.testing.assert_array_equal(action.d, [2, 1])
    action.set_values([3, -1])  # saturates like a continuous value, as upstream HERON does
    np.testing.assert_array_equal(action.d, [2, 0])
    with pytest.raises(ActionError, match=r"d: action \[0.5 0. \] must be integer indices \(ncats=\[3, 2\]\)"):
        action.set_values([0.5, 0])


def test_continuous_action_needs_a_range():
    with pytest.raises(ConfigError, match="needs range"):
        Action("a").set_specs(dim_c=1)


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        ({"dim_c": 2, "range": ([0, 0, 0], [1, 1, 1])},
         r"heater: range must be \(low, high\), each a number or dim_c=2 numbers, got \(\[0, 0, 0\], \[1, 1, 1\]\)"),
        ({"dim_c": 1, "range": (0.0,)}, r"range must be \(low, high\), each a number or dim_c=1 numbers, got \(0.0,\)"),
        ({"dim_c": 1, "range": ("cold", "hot")}, r"range must be \(low, high\).*got \('cold', 'hot'\)"),
        ({"dim_c": 1.5, "range": (0, 1)}, "heater: dim_c must be a non-negative integer, got 1.5"),
        ({"dim_c": "1"}, "heater: dim_c must be a non-negative integer, got '1'"),
        ({"ncats": [2.5]}, "heater: ncats entry must be a non-negative integer, got 2.5"),
        ({"ncats": 3.0}, r"heater: ncats must be an integer or a list of integers, got 3.0"),
        ({"dim_d": -1, "ncats": 2}, "heater: dim_d must be a non-negative integer, got -1"),
    ],
)
def test_bad_action_specs_are_config_errors_naming_owner_setting_and_value(specs, message):
    with pytest.raises(ConfigError, match=message):
        Action("heater").set_specs(**specs)


@pytest.mark.parametrize(
    ("specs", "space_type"),
    [
        ({"dim_c": 2, "range": ([-1, -2], [1, 2])}, gym.spaces.Box),
        ({"ncats": [4]}, gym.spaces.Discrete),
        ({"ncats": [4, 3]}, gym.spaces.MultiDiscrete),
        ({"dim_c": 1, "ncats": [3], "range": ([0], [1])}, gym.spaces.Dict),
    ],
)
def test_space_round_trip(specs, space_type):
    action = Action("a").set_specs(**specs)
    space = action.space
    assert isinstance(space, space_type)
    assert action.space is space
    rebuilt = Action.from_space(space)
    assert (rebuilt.dim_c, rebuilt.ncats) == (action.dim_c, action.ncats)
    space.seed(0)
    sample = space.sample()
    action.set_values(sample)
    assert space.contains(action.to_space_value())


def test_sample_is_reproducible_with_a_seeded_generator():
    first = continuous().sample(np.random.default_rng(3)).c
    second = continuous().sample(np.random.default_rng(3)).c
    np.testing.assert_array_equal(first, second)
    assert np.all(np.abs(first) <= 1.0)


# ------------------------------------------------------------- observations
def test_observation_layout_is_deterministic_and_complete():
    obs = Observation(
        local={"temp": np.array([21.0]), "setpoint": 22, "profile": [1, 2]},
        global_info={"room_b.temp": 19.5, "price": np.float64(0.3)},
        timestamp=4.0,
    )
    np.testing.assert_array_equal(obs.local_vector(), [21, 22, 1, 2])
    np.testing.assert_allclose(obs.global_vector(), [19.5, 0.3], rtol=1e-6)
    np.testing.assert_allclose(obs.vector(), [21, 22, 1, 2, 19.5, 0.3], rtol=1e-6)
    assert obs.vector_for("local").dtype == np.float32
    with pytest.raises(ConfigError, match="unknown observation_mode"):
        obs.vector_for("partial")


def test_observation_timestamp_must_be_a_number():
    with pytest.raises(ObservationError, match="observation timestamp must be a number, got 'noon'"):
        Observation.from_dict({"local": {"t": 20.0}, "timestamp": "noon"})


def test_observation_with_non_numeric_value_is_an_error():
    with pytest.raises(ObservationError, match=r"local\.name"):
        Observation(local={"name": "room"}).local_vector()
