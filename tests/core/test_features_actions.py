"""Features, actions and observation flattening."""

from __future__ import annotations

from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
import pytest

from heron.core import Action, ActionError, ConfigError, Feature, Observation, ObservationError
from heron.core.errors import SimulationError


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


@pytest.mark.parametrize("bad", [[0.1], [0.1, 0.2, 0.3], [[0.1, 0.2, 0.3]]])
def test_action_of_wrong_length_is_neither_truncated_nor_broadcast(bad):
    with pytest.raises(ActionError, match="expected 2"):
        continuous().set_values(bad)


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
