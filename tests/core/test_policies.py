"""The Policy ABC and the obs_to_vector / vector_to_action decorators."""

from __future__ import annotations

import numpy as np
import pytest

from heron.core import Action, ActionError, ConfigError, Observation, ObservationError
from heron.core.policies import Policy, obs_to_vector, vector_to_action


class Echo(Policy):
    """Returns the first action_dim entries of what it observes."""

    def __init__(self, mode: str, obs_dim: int, action_dim: int = 1) -> None:
        self.observation_mode = mode
        self.obs_dim = obs_dim
        self.action_dim = action_dim
        self.action_range = (-100.0, 100.0)
        self.seen: list[np.ndarray] = []

    @obs_to_vector
    @vector_to_action
    def forward(self, obs_vec):
        self.seen.append(obs_vec)
        return obs_vec[: self.action_dim]


OBS = Observation(local={"t": np.array([21.0])}, global_info={"a.t": 21.0, "b.t": 19.0})


@pytest.mark.parametrize(
    ("mode", "expected"), [("local", [21.0]), ("global", [21.0, 19.0]), ("full", [21.0, 21.0, 19.0])]
)
def test_obs_to_vector_follows_the_observation_mode(mode, expected):
    policy = Echo(mode, len(expected))
    action = policy.forward(OBS)
    np.testing.assert_array_equal(policy.seen[-1], expected)
    assert isinstance(action, Action)
    assert action.c[0] == pytest.approx(21.0)


def test_dict_and_array_inputs_are_accepted():
    policy = Echo("full", 3)
    policy.forward(OBS.to_dict())
    policy.forward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(policy.seen[0], [21.0, 21.0, 19.0])
    np.testing.assert_array_equal(policy.seen[1], [1.0, 2.0, 3.0])


def test_wrong_observation_length_is_an_error_naming_mode_and_sizes():
    with pytest.raises(ObservationError, match=r"mode 'full' has 3 values, expected obs_dim=2"):
        Echo("full", 2).forward(OBS)


def test_non_numeric_observation_list_is_an_observation_error():
    with pytest.raises(ObservationError, match=r"Echo: observation \['warm', 1.0\] is not numeric; expected an array, "
                                               "list or tuple of numbers"):
        Echo("local", 2).forward(["warm", 1.0])


def test_nan_observation_is_an_error():
    with pytest.raises(ObservationError, match="NaN"):
        Echo("local", 1).forward(np.array([np.nan]))


def test_wrong_action_length_is_an_error():
    policy = Echo("local", 1, action_dim=2)  # returns one value where two are expected
    with pytest.raises(ActionError, match="has 1 value"):
        policy.forward(np.array([1.0]))


def test_vector_to_action_needs_an_action_description():
    class NoRange(Policy):
        @vector_to_action
        def forward(self, obs):
            return np.zeros(1)

    with pytest.raises(ConfigError, match="action_dim and action_range"):
        NoRange().forward(None)


def test_action_spec_supports_discrete_heads():
    class Chooser(Policy):
        action_spec = Action().set_specs(ncats=[3])

        @vector_to_action
        def forward(self, obs):
            return np.array([2])

    assert Chooser().forward(None).d.tolist() == [2]
