"""The built-in sensor network: battery-powered nodes on a ring detect moving targets they cannot see.

``num_nodes`` nodes (``node_0``, ``node_1``, ...) sit on a ring under the base station (the system agent),
which moves ``num_targets`` hidden targets around the ring. Each step, in order:

1. *Actions.* A node chooses one of three modes (a ``Discrete(3)`` action): 0 sleeps, 1 listens (radio on),
   2 senses and listens.
2. *Nodes* (``apply_action``). A node harvests ``harvest`` energy (its battery holds at most 1), then spends
   ``radio_cost`` to listen and ``sense_cost`` to sense, each only if what is left pays for it (listening
   first); what it could not pay for it does not do.
3. *Targets* (the base station's ``apply_action``). Each target moves clockwise, from a node to its right
   neighbour, with probability ``target_speed``; the targets' start nodes are drawn on every reset from
   the base station's generator, which also draws their moves (seeded by ``env.reset(seed=...)``). Where
   they are is each node's ``TargetFeature``: the number of targets at the node.
4. *Detection and sharing* (the in-place simulation). A sensing node detects (1) when a target is at its
   node. Then the nodes share their detections with their two ring neighbours through a
   :class:`~heron.protocols.horizontal.StateShareCommunicationProtocol` (``state_fields=["detected"]``,
   ``topology`` the ring): a node with its radio on receives its left and right neighbours' detections,
   a node with its radio off receives nothing.
5. *Rewards.* A node earns ``detection_reward`` per detection minus ``energy_penalty`` per unit of energy
   it spent; the base station's reward is the sum of the nodes'. The team return is the detections minus
   the energy they cost.

Partial observability comes from the features' visibility: a node observes its own ``NodeFeature``
(energy, whether it sensed, whether it detected, the energy spent) and ``NeighbourFeature`` (whether its
radio was on, the left and right neighbours' detections). Its ``TargetFeature`` it holds but does not see:
only the base station does (``"system"`` visibility), and the env's global state (``env.state()``, a
centralized critic's input) holds it.

The reference controller (:func:`sensor_network_reference`) keeps its radio on while it has at least
:data:`RADIO_RESERVE` energy, senses when it or a neighbour detected a target in the last step and it
has at least :data:`SENSE_RESERVE` energy, and otherwise senses only when its battery is nearly full
(at least :data:`DUTY_THRESHOLD`), so that harvested energy is not wasted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from heron.agents.field_agent import FieldAgent
from heron.agents.system_agent import SystemAgent
from heron.core.action import Action
from heron.core.errors import ObservationError
from heron.core.feature import Feature
from heron.core.observation import Observation, check_observation_mode
from heron.core.policies import Policy
from heron.envs.simulation import LiveFeatures, in_place_simulation
from heron.protocols.horizontal import StateShareCommunicationProtocol
from heron.utils.validation import check_number

__all__ = [
    "BASE_STATION",
    "DUTY_THRESHOLD",
    "LISTEN",
    "MODES",
    "RADIO_RESERVE",
    "SENSE",
    "SENSE_RESERVE",
    "SLEEP",
    "BaseStation",
    "NeighbourFeature",
    "NodeFeature",
    "SensorNode",
    "TargetFeature",
    "node_ids",
    "sensor_network_config",
    "sensor_network_reference",
]

BASE_STATION = "base_station"
MODES = ("sleep", "listen", "sense")
SLEEP, LISTEN, SENSE = range(len(MODES))
_INITIAL_ENERGY = (0.5, 1.0)
RADIO_RESERVE = 0.1
"""The reference listens while it has at least this much energy."""
SENSE_RESERVE = 0.3
"""The reference follows a detection (its own or a neighbour's) while it has at least this much energy."""
DUTY_THRESHOLD = 0.9
"""The reference senses without a detection to follow when its battery holds at least this much."""


@dataclass
class NodeFeature(Feature):
    """A node's energy (its battery holds at most 1), and whether it sensed and detected in the last step."""

    visibility = ["owner", "upper_level"]
    energy: float = 1.0
    sensing: float = 0.0
    detected: float = 0.0
    spent: float = 0.0


@dataclass
class NeighbourFeature(Feature):
    """What a node heard in the last step: whether its radio was on, its left and right neighbours' detections."""

    visibility = ["owner"]
    heard: float = 0.0
    left: float = 0.0
    right: float = 0.0


@dataclass
class TargetFeature(Feature):
    """How many targets are at a node: the node holds it, only the base station sees it."""

    visibility = ["system"]
    count: float = 0.0


def node_ids(num_nodes: int) -> list[str]:
    """``node_0``, ``node_1``, ... in ring order (``node_0``'s left neighbour is the last one)."""
    return [f"node_{index}" for index in range(num_nodes)]


class SensorNode(FieldAgent):
    """A battery-powered node: its action is its mode, 0 sleep, 1 listen, 2 sense and listen.

    Args:
        harvest: energy harvested every step.
        sense_cost: energy one step of sensing takes.
        radio_cost: energy one step of listening takes.
        detection_reward: reward per detection.
        energy_penalty: reward lost per unit of energy spent.
    """

    def __init__(self, agent_id: str, features: Sequence[Feature] = (), *, harvest: float, sense_cost: float,
                 radio_cost: float, detection_reward: float, energy_penalty: float, **kwargs: Any) -> None:
        super().__init__(agent_id, features or [NodeFeature(), NeighbourFeature(), TargetFeature()], **kwargs)
        self.harvest, self.sense_cost, self.radio_cost = harvest, sense_cost, radio_cost
        self.detection_reward, self.energy_penalty = detection_reward, energy_penalty

    def init_action(self, features: Sequence[Feature]) -> Action:
        return Action(self.agent_id).set_specs(ncats=[len(MODES)])

    def on_reset(self, rng: np.random.Generator) -> None:
        self.state.features["NodeFeature"].energy = float(rng.uniform(*_INITIAL_ENERGY))

    def apply_action(self) -> None:
        node, radio = self.state.features["NodeFeature"], self.state.features["NeighbourFeature"]
        energy = min(1.0, node.energy + self.harvest)
        mode = int(self.action.d[0])
        radio.heard = float(mode >= LISTEN and energy >= self.radio_cost)
        energy -= radio.heard * self.radio_cost
        node.sensing = float(mode == SENSE and energy >= self.sense_cost)
        energy -= node.sensing * self.sense_cost
        node.spent = node.sensing * self.sense_cost + radio.heard * self.radio_cost
        node.energy = energy

    def compute_local_reward(self, local_state: Mapping[str, np.ndarray]) -> float:
        _, _, detected, spent = local_state["NodeFeature"]
        return self.detection_reward * float(detected) - self.energy_penalty * float(spent)


class BaseStation(SystemAgent):
    """The top of the network: it moves the targets around the ring its nodes (its subordinates, in order) form.

    Args:
        num_targets: how many targets move on the ring.
        target_speed: the probability that a target moves one node in a step.
    """

    def __init__(self, agent_id: str = BASE_STATION, features: Sequence[Feature] = (), *, num_targets: int,
                 target_speed: float, **kwargs: Any) -> None:
        super().__init__(agent_id, features, **kwargs)
        self.num_targets, self.target_speed = num_targets, target_speed

    def _targets(self) -> list[TargetFeature]:
        return [node.state.features["TargetFeature"] for node in self.subordinates.values()]

    def on_reset(self, rng: np.random.Generator) -> None:
        targets = self._targets()  # the nodes were reset first: no target anywhere
        for node in rng.integers(0, len(targets), self.num_targets):
            targets[node].count += 1.0

    def apply_action(self) -> None:
        targets = self._targets()
        moving = self.rng.binomial([int(target.count) for target in targets], self.target_speed)
        arriving = np.roll(moving, 1)
        for target, leaving, coming in zip(targets, moving.tolist(), arriving.tolist()):
            target.count += float(coming - leaving)


@dataclass
class _Detection:
    """Step 4 of the module docs, in place on the live features."""

    nodes: tuple[str, ...]
    sharing: StateShareCommunicationProtocol

    def __call__(self, features: LiveFeatures) -> None:
        states = {}
        for aid in self.nodes:
            node = features[aid]["NodeFeature"]
            node.detected = float(node.sensing > 0.0 and features[aid]["TargetFeature"].count > 0.0)
            states[aid] = {"detected": node.detected}
        messages = self.sharing.compute_coordination_messages(None, states)
        for index, aid in enumerate(self.nodes):
            radio = features[aid]["NeighbourFeature"]
            heard = messages[aid]["neighbors"] if radio.heard else {}
            left, right = self.nodes[index - 1], self.nodes[(index + 1) % len(self.nodes)]
            radio.left = heard[left]["detected"] if heard else 0.0
            radio.right = heard[right]["detected"] if heard else 0.0


class _RingReference(Policy):
    """The reference of the module docs, on a node's ``NodeFeature`` and ``NeighbourFeature``."""

    observation_mode = "local"

    def __init__(self) -> None:
        self._action = Action(self.policy_name).set_specs(ncats=[len(MODES)])

    def forward(self, obs: Any) -> Action:
        if not isinstance(obs, Observation):
            raise ObservationError(f"{self.policy_name}: the sensor network reference reads named observation "
                                   f"entries; give it an Observation, got {type(obs).__name__}")
        local = obs.local
        if "NodeFeature" not in local or "NeighbourFeature" not in local:
            raise ObservationError(f"{self.policy_name}: the sensor network reference drives sensor nodes; the "
                                   f"observation holds {sorted(local)}")
        energy, _, detected, _ = (float(value) for value in local["NodeFeature"])
        _, left, right = (float(value) for value in local["NeighbourFeature"])
        follow = max(detected, left, right) > 0.0 and energy >= SENSE_RESERVE
        if follow or energy >= DUTY_THRESHOLD:
            return self._action.copy().set_values([SENSE])
        return self._action.copy().set_values([LISTEN if energy >= RADIO_RESERVE else SLEEP])


def sensor_network_reference() -> Policy:
    """The rule-based reference of every sensor network (see the module docs)."""
    return _RingReference()


def sensor_network_config(
    num_nodes: int = 8,
    num_targets: int = 2,
    target_speed: float = 0.7,
    max_steps: int = 50,
    harvest: float = 0.08,
    sense_cost: float = 0.15,
    radio_cost: float = 0.01,
    detection_reward: float = 1.0,
    energy_penalty: float = 1.0,
    observation_mode: str = "local",
) -> dict[str, Any]:
    """The flat env_config of the sensor network env (the dynamics are in the module docs).

    Args:
        num_nodes: number of sensor nodes on the ring (field agents, at least 3).
        num_targets: number of targets moving on the ring.
        target_speed: probability that a target moves to the next node in a step, in [0, 1].
        max_steps: episode length.
        harvest: energy a node harvests every step (its battery holds 1).
        sense_cost: energy a step of sensing takes.
        radio_cost: energy a step of listening to the neighbours takes.
        detection_reward: reward per detection.
        energy_penalty: reward lost per unit of energy spent.
        observation_mode: every node's observation mode.
    """
    where = "sensor_network"
    check_number(num_nodes, f"{where} num_nodes", minimum=3, integer=True)
    check_number(num_targets, f"{where} num_targets", minimum=1, integer=True)
    check_number(max_steps, f"{where} max_steps", minimum=1, integer=True)
    check_number(target_speed, f"{where} target_speed", minimum=0, maximum=1)
    for name, value in {"harvest": harvest, "sense_cost": sense_cost, "radio_cost": radio_cost}.items():
        check_number(value, f"{where} {name}", minimum=0, maximum=1)
    for name, value in {"detection_reward": detection_reward, "energy_penalty": energy_penalty}.items():
        check_number(value, f"{where} {name}", minimum=0)
    check_observation_mode(observation_mode, f"{where} observation_mode")
    ids = node_ids(num_nodes)
    ring = {aid: [ids[index - 1], ids[(index + 1) % num_nodes]] for index, aid in enumerate(ids)}
    node_kwargs = {"harvest": harvest, "sense_cost": sense_cost, "radio_cost": radio_cost,
                   "detection_reward": detection_reward, "energy_penalty": energy_penalty}
    return {
        "env_id": f"sensor_network_{num_nodes}",
        "agents": [{"agent_id": aid, "agent_cls": SensorNode, "observation_mode": observation_mode,
                    "kwargs": node_kwargs} for aid in ids],
        "system": {"agent_id": BASE_STATION, "agent_cls": BaseStation,
                   "kwargs": {"num_targets": num_targets, "target_speed": target_speed}},
        "simulation": in_place_simulation(_Detection(tuple(ids), StateShareCommunicationProtocol(["detected"], ring))),
        "max_steps": max_steps,
    }
