"""Policies and agents shared by the event-driven tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from heron.agents import FieldAgent
from heron.core import Action, Feature, Policy, obs_to_vector, vector_to_action
from heron.demo_envs.thermostat import TARGET_TEMPERATURE, ProportionalController


class FullModeController(ProportionalController):
    """The proportional controller reading its own temperature from the ``"full"`` vector."""

    observation_mode = "full"
    obs_dim = None


class BuildingController(Policy):
    """Drives every room of a vertical-protocol building: one proportional action per room."""

    observation_mode = "local"
    action_range = (-1.0, 1.0)

    def __init__(self, num_rooms: int, gain: float = 0.5) -> None:
        self.obs_dim = self.action_dim = num_rooms
        self.gain = gain

    @obs_to_vector
    @vector_to_action
    def forward(self, obs_vec: np.ndarray) -> np.ndarray:
        return self.gain * (TARGET_TEMPERATURE - obs_vec)


class BufferPolicy(ProportionalController):
    """Returns the same array object every time, overwritten by each decision."""

    def __init__(self) -> None:
        super().__init__()
        self.buffer = np.zeros(1)

    def forward(self, obs):
        self.buffer[:] = self.gain * (TARGET_TEMPERATURE - obs.local_vector()[0])
        return self.buffer


@dataclass
class Level(Feature):
    visibility = ["public"]
    value: float = 0.0


class Filler(FieldAgent):
    """Adds its action to a level; done when the level reaches 1. Reward: the level."""

    def init_action(self, features):
        return Action().set_specs(dim_c=1, range=(np.array([0.0]), np.array([1.0])))

    def apply_action(self):
        self.state.features["Level"].value += float(self.action.c[0])

    def compute_local_reward(self, local_state):
        return float(local_state["Level"][0])

    def is_terminated(self, local_state):
        return float(local_state["Level"][0]) >= 1.0


class ConstantPolicy(Policy):
    """Always the same action."""

    observation_mode = "local"

    def __init__(self, value: float) -> None:
        self.value = value

    def forward(self, obs):
        return np.array([self.value])


def filler_config(rates=(0.3, 0.2), max_steps=50):
    return {
        "agents": [
            {"agent_id": f"tank_{index}", "agent_cls": Filler, "features": [Level()]} for index in range(len(rates))
        ],
        "max_steps": max_steps,
    }
