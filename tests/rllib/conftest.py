"""One Ray instance per test session (2 CPUs, no dashboard) and small HERON envs for the RLlib tests."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

import cloudpickle
import numpy as np
import pytest
import ray

from heron.agents.field_agent import FieldAgent
from heron.core.action import Action
from heron.core.feature import Feature
from heron.demo_envs.thermostat import RoomTempFeature, Thermostat, thermostat_config, thermostat_simulation


@pytest.fixture(scope="session", autouse=True)
def ray_session():
    """Ray with 2 CPUs for the whole session (trainers reuse it instead of starting their own)."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


class OutOfComfort(Thermostat):
    """A thermostat whose episode ends (terminates) once its room leaves 17..26 C."""

    def is_terminated(self, local_state: Mapping[str, np.ndarray]) -> bool:
        return not 17.0 <= float(local_state["RoomTempFeature"][0]) <= 26.0


class WideThermostat(Thermostat):
    """A thermostat whose heating power ranges over [0, 4] (not RLlib's [-1, 1])."""

    def init_action(self, features: Sequence[Feature]) -> Action:
        return Action(self.agent_id).set_specs(dim_c=1, range=(np.array([0.0]), np.array([4.0])))

    def apply_action(self) -> None:
        feature = self.state.features["RoomTempFeature"]
        feature.temperature = min(max(feature.temperature + float(self.action.c[0]) - 2.0, 10.0), 35.0)


class SwitchThermostat(FieldAgent):
    """Three heating levels (a Discrete action)."""

    def init_action(self, features: Sequence[Feature]) -> Action:
        return Action(self.agent_id).set_specs(ncats=3)

    def apply_action(self) -> None:
        feature = self.state.features["RoomTempFeature"]
        feature.temperature = min(max(feature.temperature + float(self.action.d[0]) - 1.0, 10.0), 35.0)

    def compute_local_reward(self, local_state: Mapping[str, np.ndarray]) -> float:
        return -abs(float(local_state["RoomTempFeature"][0]) - 22.0)


class MixedThermostat(SwitchThermostat):
    """A continuous heating power and a discrete fan switch (a Dict {"c", "d"} action)."""

    def init_action(self, features: Sequence[Feature]) -> Action:
        return Action(self.agent_id).set_specs(dim_c=1, ncats=[2], range=(np.array([-1.0]), np.array([1.0])))

    def apply_action(self) -> None:
        feature = self.state.features["RoomTempFeature"]
        change = float(self.action.c[0]) - 0.5 * float(self.action.d[0])
        feature.temperature = min(max(feature.temperature + change, 10.0), 35.0)


cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the agent classes travel to Ray workers by value


@pytest.fixture
def agents() -> SimpleNamespace:
    """The test agent classes and the ``room`` spec helper."""
    return SimpleNamespace(
        OutOfComfort=OutOfComfort, WideThermostat=WideThermostat, SwitchThermostat=SwitchThermostat,
        MixedThermostat=MixedThermostat, room=room,
    )


def room(agent_id: str, cls: type = Thermostat, **extra: Any) -> dict[str, Any]:
    """An agent spec of a room starting at 15..25 C."""
    return {"agent_id": agent_id, "agent_cls": cls, "features": [RoomTempFeature()],
            "kwargs": {"initial_range": (15.0, 25.0)} if issubclass(cls, Thermostat) else {}, **extra}


@pytest.fixture
def two_rooms() -> dict[str, Any]:
    """The tutorial's two-room env_config."""
    return thermostat_config(num_rooms=2)


@pytest.fixture
def mixed_rooms() -> dict[str, Any]:
    """Continuous, discrete and mixed actions, and two observation modes."""
    return {
        "env_id": "mixed",
        "agents": [room("room_a"), room("room_b", SwitchThermostat, observation_mode="full"),
                   room("room_c", MixedThermostat)],
        "simulation": thermostat_simulation,
        "max_steps": 20,
    }
