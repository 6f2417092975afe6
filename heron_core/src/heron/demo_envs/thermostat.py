"""The built-in thermostat environment (the tutorial's two rooms, any number of rooms).

Each room's thermostat sets a heating power in [-1, 1]; the room's
temperature rises by twice that power and is clipped to [10, 35] C; then the
simulation cools every room toward the 15 C ambient at rate 0.1 and lets
heat leak toward the mean room temperature at rate 0.05. A room's reward is
``-|temperature - 22|``.

The reference controller, :func:`thermostat_reference`, applies the proportional rule of
:class:`ProportionalController` to every room an acting agent drives: its own room in the flat
variant, each room of the building under ``coordinator_protocol="vertical"``.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from heron.agents.field_agent import FieldAgent
from heron.core.action import Action
from heron.core.errors import ConfigError
from heron.core.feature import Feature
from heron.core.policies import Policy, obs_to_vector, vector_to_action
from heron.envs.simulation import LiveFeatures, in_place_simulation
from heron.utils.validation import check_number

__all__ = [
    "TARGET_TEMPERATURE",
    "ProportionalController",
    "RoomTempFeature",
    "Thermostat",
    "room_ids",
    "thermostat_config",
    "thermostat_reference",
    "thermostat_simulation",
]

TARGET_TEMPERATURE = 22.0
AMBIENT_TEMPERATURE = 15.0
COOLING_RATE = 0.1
LEAKAGE_RATE = 0.05
HEATING_GAIN = 2.0
TEMPERATURE_BOUNDS = (10.0, 35.0)


@dataclass
class RoomTempFeature(Feature):
    """A room's temperature in C, visible to everyone."""

    visibility = ["public"]
    temperature: float = 20.0


class Thermostat(FieldAgent):
    """Heats (or cools) one room.

    Args:
        initial_range: ``(low, high)`` to draw the initial temperature from on
            every reset, or ``None`` to start from the constructed value.
    """

    def __init__(
        self,
        agent_id: str,
        features: Sequence[Feature] = (),
        *,
        initial_range: tuple[float, float] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(agent_id, features or [RoomTempFeature()], **kwargs)
        self.initial_range = None if initial_range is None else _temperature_range(initial_range, agent_id)

    def init_action(self, features: Sequence[Feature]) -> Action:
        return Action(self.agent_id).set_specs(dim_c=1, range=(np.array([-1.0]), np.array([1.0])))

    def on_reset(self, rng: np.random.Generator) -> None:
        if self.initial_range is not None:
            self.state.features["RoomTempFeature"].temperature = float(rng.uniform(*self.initial_range))

    def apply_action(self) -> None:
        feature = self.state.features["RoomTempFeature"]
        heated = feature.temperature + HEATING_GAIN * float(self.action.c[0])
        feature.temperature = min(max(heated, TEMPERATURE_BOUNDS[0]), TEMPERATURE_BOUNDS[1])

    def compute_local_reward(self, local_state: Mapping[str, np.ndarray]) -> float:
        return -abs(float(local_state["RoomTempFeature"][0]) - TARGET_TEMPERATURE)


def _temperature_range(value: Any, agent_id: str) -> tuple[float, float]:
    """``(low, high)`` as floats, checked: two finite numbers with ``low <= high``."""
    where = f"agent {agent_id!r}: initial_range"
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        raise ConfigError(f"{where} must be a (low, high) pair of temperatures or None, got {value!r}")
    low = check_number(value[0], f"{where} low")
    high = check_number(value[1], f"{where} high", minimum=low)
    return low, high


@in_place_simulation
def thermostat_simulation(features: LiveFeatures) -> None:
    """Cool every room toward ambient and leak heat toward the mean room temperature (in place)."""
    rooms = [own["RoomTempFeature"] for own in features.values() if "RoomTempFeature" in own]
    mean = sum(room.temperature for room in rooms) / len(rooms)
    for room in rooms:
        temperature = room.temperature
        room.temperature = (
            temperature
            + COOLING_RATE * (AMBIENT_TEMPERATURE - temperature)
            + LEAKAGE_RATE * (mean - temperature)
        )


class ProportionalController(Policy):
    """The hand-written reference of one room: heating proportional to the distance to 22 C.

    ``action = clip(gain * (22 - temperature), -1, 1)`` on the room's own temperature.
    """

    observation_mode = "local"
    obs_dim = 1
    action_dim = 1
    action_range = (-1.0, 1.0)

    def __init__(self, gain: float = 0.5) -> None:
        self.gain = gain

    @obs_to_vector
    @vector_to_action
    def forward(self, obs_vec: np.ndarray) -> np.ndarray:
        return np.array([self.gain * (TARGET_TEMPERATURE - obs_vec[0])])


class _EveryRoomController(ProportionalController):
    """The proportional rule on every temperature of the local observation: one action per room.

    A room observes its own temperature; a building with a vertical protocol observes the temperatures of its
    rooms in the order of its joint action. Either way the action has the size of the local observation.
    """

    obs_dim = None
    action_dim = None  # one action per room it observes

    def __init__(self, gain: float = 0.5) -> None:
        super().__init__(gain)
        self._actions: dict[int, Action] = {}  # one template per number of rooms: specs are built once

    @obs_to_vector
    def forward(self, obs_vec: np.ndarray) -> Action:
        template = self._actions.get(obs_vec.size)
        if template is None:
            template = Action(self.policy_name).set_specs(dim_c=obs_vec.size, range=self.action_range)
            self._actions[obs_vec.size] = template
        return template.copy().set_values(self.gain * (TARGET_TEMPERATURE - obs_vec))


def thermostat_reference() -> Policy:
    """The reference policy of every thermostat variant: the proportional rule (gain 0.5) on each room it drives."""
    return _EveryRoomController()


def room_ids(num_rooms: int) -> list[str]:
    """``room_a``, ``room_b``, ..., ``room_z``, ``room_aa``, ... (spreadsheet-column style)."""
    ids = []
    for index in range(num_rooms):
        name = ""
        index += 1
        while index:
            index, rest = divmod(index - 1, 26)
            name = string.ascii_lowercase[rest] + name
        ids.append(f"room_{name}")
    return ids


def thermostat_config(
    num_rooms: int = 2,
    max_steps: int = 50,
    initial_range: tuple[float, float] | None = (15.0, 25.0),
    observation_mode: str = "local",
    coordinator_protocol: str | None = None,
) -> dict[str, Any]:
    """The flat env_config of the thermostat env.

    Args:
        num_rooms: number of rooms (field agents).
        max_steps: episode length.
        initial_range: initial temperatures are drawn from it on reset (``None``: 20 C).
        observation_mode: every thermostat's observation mode.
        coordinator_protocol: put the rooms under a ``"building"`` coordinator with
            this protocol (``"vertical"``: the building sets every room's heating).
    """
    num_rooms = check_number(num_rooms, "thermostat num_rooms", minimum=1, integer=True)
    agents = [
        {
            "agent_id": agent_id,
            "agent_cls": Thermostat,
            "features": [RoomTempFeature()],
            "observation_mode": observation_mode,
            "kwargs": {"initial_range": initial_range},
            **({"coordinator": "building"} if coordinator_protocol else {}),
        }
        for agent_id in room_ids(num_rooms)
    ]
    config: dict[str, Any] = {
        "env_id": f"thermostat_{num_rooms}",
        "agents": agents,
        "simulation": thermostat_simulation,
        "max_steps": max_steps,
    }
    if coordinator_protocol:
        config["coordinators"] = [{"coordinator_id": "building", "protocol": coordinator_protocol}]
    return config
