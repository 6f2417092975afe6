"""Thermostat variants and helpers shared by the manual backend's tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from heron.core import Action
from heron.demo_envs.thermostat import HEATING_GAIN, TEMPERATURE_BOUNDS, Thermostat, thermostat_config


class DiscreteThermostat(Thermostat):
    """A three-position heater: index 0 cools, 1 is off, 2 heats (power -1, 0, +1)."""

    def init_action(self, features) -> Action:
        return Action(self.agent_id).set_specs(ncats=[3])

    def apply_action(self) -> None:
        feature = self.state.features["RoomTempFeature"]
        heated = feature.temperature + HEATING_GAIN * 0.5 * (int(self.action.d[0]) - 1)
        feature.temperature = min(max(heated, TEMPERATURE_BOUNDS[0]), TEMPERATURE_BOUNDS[1])


class OverheatingThermostat(Thermostat):
    """Leaves the episode (terminates) once its room is above 26 C."""

    def is_terminated(self, local_state: Mapping[str, np.ndarray]) -> bool:
        return float(local_state["RoomTempFeature"][0]) > 26.0


def variant_config(agent_cls: type, num_rooms: int = 2, modes: list[str] | None = None, **kwargs: Any) -> dict:
    """The thermostat env_config with every room's agent class replaced (and, optionally, per-room modes)."""
    config = thermostat_config(num_rooms=num_rooms, **kwargs)
    config["env_id"] = f"{agent_cls.__name__.lower()}_{num_rooms}"
    for index, agent in enumerate(config["agents"]):
        agent["agent_cls"] = agent_cls
        if modes is not None:
            agent["observation_mode"] = modes[index]
    return config
