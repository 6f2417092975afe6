"""Small agents and configs shared by the env tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from heron.agents import FieldAgent
from heron.core import Action, Feature


@dataclass
class Charge(Feature):
    visibility = ["owner", "upper_level"]
    level: float = 0.5


@dataclass
class Price(Feature):
    visibility = ["public"]
    value: float = 1.0


@dataclass
class Secret(Feature):
    visibility = ["system"]
    wear: float = 0.0


class Battery(FieldAgent):
    """Charges by its action; reward is minus the distance to half charge."""

    def init_action(self, features):
        return Action().set_specs(dim_c=1, range=(np.array([-0.1]), np.array([0.1])))

    def apply_action(self):
        charge = self.state.features["Charge"]
        charge.level += float(self.action.c[0])

    def compute_local_reward(self, local_state):
        return -abs(float(local_state["Charge"][0]) - 0.5)


def battery_config(protocol=None, **extra):
    config = {
        "agents": [
            {"agent_id": "b1", "agent_cls": Battery, "features": [Charge(level=0.2), Price(), Secret()],
             "coordinator": "grid"},
            {"agent_id": "b2", "agent_cls": Battery, "features": [Charge(level=0.9)], "coordinator": "grid"},
        ],
        "coordinators": [{"coordinator_id": "grid", **({"protocol": protocol} if protocol else {})}],
        "max_steps": 5,
    }
    config.update(extra)
    return config
