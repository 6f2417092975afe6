"""The built-in microgrid: feeders of batteries, PV and loads under a grid operator, and dispatchable generators.

The hierarchy (the defaults: 2 feeders, 1 generator)::

    grid_operator                  system agent: the clock and the tariff (GridFeature, public)
    |-- feeder_0                   Feeder (coordinator): acts, a storage power budget in [-1, 1]
    |   |-- feeder_0_battery_0..1  Battery: receives the budget through the feeder's BudgetProtocol
    |   |-- feeder_0_pv_0          SolarPanel: a seeded daily PV profile
    |   `-- feeder_0_load_0..2     Load: a seeded daily demand profile
    |-- feeder_1 ...
    `-- generator_0                Generator: acts, off, half or full output

The acting agents have different roles, observations and actions: feeders (continuous) and generators
(discrete). One step is one hour; an episode (``max_steps=24``) is one day from midnight. Powers are in
kW, energies in kWh, money in price units. In each step, for the hour ``h`` being settled:

1. *Actions.* A feeder's action ``b`` reaches each of its batteries, every step, through its
   :class:`BudgetProtocol` (a :class:`~heron.protocols.vertical.VerticalProtocol` broadcasting it): each
   battery is asked for ``b * battery_power`` (positive discharges, negative charges). A generator's
   action picks its target output from :data:`GENERATOR_LEVELS` (0, 0.5 or 1 of ``generator_capacity``).
2. *Devices* (``apply_action``). A load's demand for hour ``h`` is the forecast it showed a step earlier;
   it then forecasts hour ``h + 1``: ``load_shape(h + 1) * scale * (1 + 0.1 * noise)``, a residential day
   (0.3 kW at night, a morning bump at 8 h, the 1 kW evening peak at 19 h) with ``scale`` drawn from
   U(0.8, 1.2) on every reset and ``noise`` standard normal each hour. A panel likewise forecasts
   ``pv_capacity * sun_shape(h + 1) * (1 - clouds)``: a half sine from 6 h to 18 h, the day's cloudiness
   drawn from U(0, 0.4) on reset plus 0.1 of hourly noise. The draws come from each device's generator,
   seeded by ``env.reset(seed=...)``. A battery delivers what it is asked for as far as its energy allows
   (at most ``soc * battery_capacity * efficiency`` discharged, ``(1 - soc) * battery_capacity /
   efficiency`` charged): it stores ``-power * efficiency`` when charging and loses ``power / efficiency``
   when discharging. A generator's output moves toward its target by at most ``generator_ramp`` (a
   fraction of its capacity) per hour.
3. *Settlement* (the in-place simulation). A feeder exchanges ``net = loads - PV - batteries`` with the
   main grid over a line of ``line_capacity``: demand above it is unmet, export above it is curtailed. It
   pays ``tariff(h) * net`` (a negative net is sold at the same price), ``unmet_penalty`` per unmet kWh,
   ``wear_cost`` per kWh its batteries move, ``imbalance_cost`` per kWh of its budget they could not
   follow (full, empty), and ``storage_value`` per kWh they lose (it is credited the same per kWh they
   gain, so that emptying them is not free). A generator pays ``(generator_cost - tariff(h)) * output``
   (negative: it earns). :func:`tariff` is a time-of-use tariff: 0.10 from 0 h to 7 h, 0.20 until 17 h,
   0.40 until 21 h, 0.20 until midnight. The clock then moves to ``h + 1``.
4. *Rewards.* A feeder's and a generator's reward is minus its payment; the grid operator's, the sum of
   theirs. The team return is therefore minus the day's cost: energy bought minus sold, fuel, unmet
   demand, wear, imbalance, and the value of the energy the batteries lost over the day.

Observations (visibility of the features; ``observation_mode="full"``, the default, adds the public
part): a feeder sees its ``FeederFeature`` (the coming hour's load minus PV, in units of its batteries'
total power) and its batteries' ``BatteryFeature`` (state of charge); a generator sees its output; all
see the public ``GridFeature`` (the coming hour, its sine and cosine on the day, its price, and the
last hour's net import from the main grid in units of the total generator capacity). Loads, panels,
battery flows and what each agent paid (``LedgerFeature``) only their owner or the grid operator sees.

The reference controller (:func:`microgrid_reference`) charges on surplus and discharges on deficit
(``b = clip(net load forecast, -1, 1)``, 0 when every battery is full, or empty, for it), and its
generators cover the rest: the lowest level covering their output plus the last hour's net import. It
ignores the tariff and the line limit, which is what a trained policy can improve on.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np

from heron.agents.coordinator_agent import CoordinatorAgent
from heron.agents.field_agent import FieldAgent
from heron.core.action import Action
from heron.core.errors import ObservationError
from heron.core.feature import Feature
from heron.core.observation import Observation, check_observation_mode
from heron.core.policies import Policy
from heron.envs.simulation import LiveFeatures, in_place_simulation
from heron.protocols.vertical import BroadcastActionProtocol, VerticalProtocol
from heron.utils.validation import check_number

__all__ = [
    "GENERATOR_LEVELS",
    "GRID_OPERATOR",
    "Battery",
    "BatteryFeature",
    "BatteryFlow",
    "BudgetProtocol",
    "Feeder",
    "FeederFeature",
    "Generator",
    "GeneratorFeature",
    "GridFeature",
    "LedgerFeature",
    "Load",
    "LoadFeature",
    "SolarFeature",
    "SolarPanel",
    "load_shape",
    "microgrid_config",
    "microgrid_reference",
    "sun_shape",
    "tariff",
]

GRID_OPERATOR = "grid_operator"
_HOURS_PER_DAY = 24
_TARIFF = ((7, 0.10), (17, 0.20), (21, 0.40), (24, 0.20))  # (until hour, price)
_LOAD_NOISE = 0.1
_CLOUD_NOISE = 0.1
_SCALE_RANGE = (0.8, 1.2)
_MAX_CLOUDINESS = 0.4
_INITIAL_SOC = (0.3, 0.7)
GENERATOR_LEVELS = (0.0, 0.5, 1.0)
"""The outputs (fractions of capacity) a generator's action chooses from: off, half, full."""
_EMPTY, _FULL = 0.01, 0.99  # the reference asks no discharge when every battery is below _EMPTY, no charge above _FULL


def tariff(hour: float) -> float:
    """The time-of-use price of ``hour`` (any hour; the tariff repeats every day)."""
    hour %= _HOURS_PER_DAY
    return next(value for until, value in _TARIFF if hour < until)


def load_shape(hour: float) -> float:
    """A residential load's demand (kW) at ``hour``: 0.3 at night, 0.55 at 8 h, 1.0 at 19 h."""
    hour %= _HOURS_PER_DAY
    return 0.3 + 0.25 * math.exp(-(((hour - 8.0) / 1.5) ** 2)) + 0.7 * math.exp(-(((hour - 19.0) / 2.0) ** 2))


def sun_shape(hour: float) -> float:
    """A PV panel's clear-sky output at ``hour`` as a fraction of its capacity."""
    hour %= _HOURS_PER_DAY
    return math.sin(math.pi * (hour - 6.0) / 12.0) if 6.0 < hour < 18.0 else 0.0


# ---------------------------------------------------------------- features
@dataclass
class LoadFeature(Feature):
    """A load's demand in kW: of the hour being settled (``power``) and of the coming hour (``forecast``)."""

    visibility = ["owner"]
    power: float = 0.0
    forecast: float = 0.0


@dataclass
class SolarFeature(Feature):
    """A panel's output in kW: of the hour being settled (``power``) and of the coming hour (``forecast``)."""

    visibility = ["owner"]
    power: float = 0.0
    forecast: float = 0.0


@dataclass
class BatteryFeature(Feature):
    """A battery's state of charge (fraction of its capacity), which its feeder sees."""

    visibility = ["owner", "upper_level"]
    soc: float = 0.5


@dataclass
class BatteryFlow(Feature):
    """A battery's last hour: the power it delivered (kW, positive: discharged), what it missed of its request
    (kW) and the energy it stored (kWh, negative: lost)."""

    visibility = ["owner"]
    power: float = 0.0
    missed: float = 0.0
    stored: float = 0.0


@dataclass
class GeneratorFeature(Feature):
    """A generator's output as a fraction of its capacity."""

    visibility = ["owner"]
    output: float = 0.0


@dataclass
class FeederFeature(Feature):
    """The coming hour's load minus PV of a feeder, in units of its batteries' total power."""

    visibility = ["owner"]
    net_load: float = 0.0


@dataclass
class LedgerFeature(Feature):
    """What an agent paid for the last hour and the demand it left unmet (kWh); the grid operator sees it."""

    visibility = ["system"]
    cost: float = 0.0
    unmet: float = 0.0


@dataclass
class GridFeature(Feature):
    """The coming hour, its position on the day, its price, and the last hour's net import.

    ``net_import`` is what the microgrid drew from the main grid (negative: fed in), in units of the total
    generator capacity.
    """

    visibility = ["public"]
    hour: float = 0.0
    hour_sin: float = 0.0
    hour_cos: float = 1.0
    price: float = tariff(0)
    net_import: float = 0.0

    def set_hour(self, hour: int) -> None:
        """Show ``hour`` (0-23) and its price."""
        angle = 2.0 * math.pi * hour / _HOURS_PER_DAY
        self.hour, self.hour_sin, self.hour_cos = float(hour), math.sin(angle), math.cos(angle)
        self.price = tariff(hour)


_NET_IMPORT = [f.name for f in fields(GridFeature)].index("net_import")


# ------------------------------------------------------------------ agents
class _ProfileDevice(FieldAgent):
    """A device without action whose power follows a daily profile, forecast one hour ahead.

    Subclasses draw the day's random parameters in :meth:`draw_day` and give an hour's power in :meth:`profile`,
    both from the agent's generator ``self.rng`` (seeded by ``env.reset(seed=...)``).
    """

    feature_class: ClassVar[type[Feature]]

    def __init__(self, agent_id: str, features: Sequence[Feature] = (), **kwargs: Any) -> None:
        super().__init__(agent_id, features or [self.feature_class()], **kwargs)
        self.hour = 0  # the hour whose power the feature's forecast holds

    def init_action(self, features: Sequence[Feature]) -> Action:
        return Action(self.agent_id)

    @abstractmethod
    def draw_day(self) -> None:
        """Draw the random parameters of the day from ``self.rng``."""

    @abstractmethod
    def profile(self, hour: int) -> float:
        """The power (kW) of ``hour``, drawing its noise from ``self.rng``."""

    def on_reset(self, rng: np.random.Generator) -> None:
        self.hour = 0
        self.draw_day()
        self.state.features[self.feature_class.__name__].forecast = self.profile(0)

    def apply_action(self) -> None:
        feature = self.state.features[self.feature_class.__name__]
        feature.power = feature.forecast
        self.hour += 1
        feature.forecast = self.profile(self.hour)

    def compute_local_reward(self, local_state: Mapping[str, np.ndarray]) -> float:
        return 0.0


class Load(_ProfileDevice):
    """A residential load, 1 kW at its evening peak (see the module docs for its profile)."""

    feature_class = LoadFeature

    def __init__(self, agent_id: str, features: Sequence[Feature] = (), **kwargs: Any) -> None:
        super().__init__(agent_id, features, **kwargs)
        self.scale = 1.0

    def draw_day(self) -> None:
        self.scale = float(self.rng.uniform(*_SCALE_RANGE))

    def profile(self, hour: int) -> float:
        noise = 1.0 + _LOAD_NOISE * float(self.rng.standard_normal())
        return self.scale * load_shape(hour) * max(0.0, noise)


class SolarPanel(_ProfileDevice):
    """A PV panel of ``capacity`` kW (see the module docs for its profile)."""

    feature_class = SolarFeature

    def __init__(self, agent_id: str, features: Sequence[Feature] = (), *, capacity: float, **kwargs: Any) -> None:
        super().__init__(agent_id, features, **kwargs)
        self.capacity = capacity
        self.cloudiness = 0.0

    def draw_day(self) -> None:
        self.cloudiness = float(self.rng.uniform(0.0, _MAX_CLOUDINESS))

    def profile(self, hour: int) -> float:
        clouds = min(1.0, max(0.0, self.cloudiness + _CLOUD_NOISE * float(self.rng.standard_normal())))
        return self.capacity * sun_shape(hour) * (1.0 - clouds)


class Battery(FieldAgent):
    """A battery driven by its feeder: its action is the share of ``power`` to deliver (negative: to charge).

    Args:
        capacity: energy capacity in kWh.
        power: rated power in kW (both ways).
        efficiency: one-way efficiency in (0, 1] (charging and discharging).
    """

    def __init__(self, agent_id: str, features: Sequence[Feature] = (), *, capacity: float, power: float,
                 efficiency: float, **kwargs: Any) -> None:
        super().__init__(agent_id, features or [BatteryFeature(), BatteryFlow()], **kwargs)
        self.capacity, self.power, self.efficiency = capacity, power, efficiency

    def init_action(self, features: Sequence[Feature]) -> Action:
        return Action(self.agent_id).set_specs(dim_c=1, range=(np.array([-1.0]), np.array([1.0])))

    def on_reset(self, rng: np.random.Generator) -> None:
        self.state.features["BatteryFeature"].soc = float(rng.uniform(*_INITIAL_SOC))

    def apply_action(self) -> None:
        feature = self.state.features["BatteryFeature"]
        energy = feature.soc * self.capacity
        requested = float(self.action.c[0]) * self.power
        if requested >= 0.0:
            delivered = min(requested, energy * self.efficiency)
            stored = -delivered / self.efficiency
        else:
            delivered = max(requested, -(self.capacity - energy) / self.efficiency)
            stored = -delivered * self.efficiency
        feature.soc = min(1.0, max(0.0, (energy + stored) / self.capacity))
        flow = self.state.features["BatteryFlow"]
        flow.power, flow.missed, flow.stored = delivered, abs(requested - delivered), stored

    def compute_local_reward(self, local_state: Mapping[str, np.ndarray]) -> float:
        return 0.0  # its wear is on its feeder's bill


class Generator(FieldAgent):
    """A dispatchable generator committed to one of :data:`GENERATOR_LEVELS` of its capacity by its action.

    Args:
        ramp: the most its output (a fraction of capacity) changes in one hour.
    """

    def __init__(self, agent_id: str, features: Sequence[Feature] = (), *, ramp: float, **kwargs: Any) -> None:
        super().__init__(agent_id, features or [GeneratorFeature(), LedgerFeature()], **kwargs)
        self.ramp = ramp

    def init_action(self, features: Sequence[Feature]) -> Action:
        return Action(self.agent_id).set_specs(ncats=[len(GENERATOR_LEVELS)])

    def apply_action(self) -> None:
        feature = self.state.features["GeneratorFeature"]
        change = GENERATOR_LEVELS[int(self.action.d[0])] - feature.output
        feature.output = feature.output + min(self.ramp, max(-self.ramp, change))

    def compute_local_reward(self, local_state: Mapping[str, np.ndarray]) -> float:
        return -float(local_state["LedgerFeature"][0])


class BudgetProtocol(VerticalProtocol):
    """A feeder's protocol: its action, a storage power budget, goes to each of its batteries every step."""

    def __init__(self) -> None:
        super().__init__(action_protocol=BroadcastActionProtocol())


class Feeder(CoordinatorAgent):
    """A feeder: its batteries, panels and loads behind one line; it acts on its batteries' power budget."""

    def __init__(self, agent_id: str, features: Sequence[Feature] = (), **kwargs: Any) -> None:
        super().__init__(agent_id, features or [FeederFeature(), LedgerFeature()], **kwargs)

    def on_reset(self, rng: np.random.Generator) -> None:
        devices = self.subordinates.values()  # reset before their feeder: their forecasts are the coming hour's
        self.state.features["FeederFeature"].net_load = _net_load(
            [d.state.features["LoadFeature"] for d in devices if isinstance(d, Load)],
            [d.state.features["SolarFeature"] for d in devices if isinstance(d, SolarPanel)],
            sum(d.power for d in devices if isinstance(d, Battery)),
        )

    def compute_local_reward(self, local_state: Mapping[str, np.ndarray]) -> float:
        return -float(local_state["LedgerFeature"][0])


def _net_load(loads: Iterable[LoadFeature], panels: Iterable[SolarFeature], storage_power: float) -> float:
    """The coming hour's load minus PV in units of ``storage_power``."""
    return (sum(load.forecast for load in loads) - sum(panel.forecast for panel in panels)) / storage_power


# -------------------------------------------------------------- simulation
@dataclass(frozen=True)
class _FeederWiring:
    feeder: str
    batteries: tuple[str, ...]
    panels: tuple[str, ...]
    loads: tuple[str, ...]
    storage_power: float


@dataclass
class _Settlement:
    """The microgrid's settlement (step 3 of the module docs), in place on the live features."""

    feeders: tuple[_FeederWiring, ...]
    generators: tuple[str, ...]
    line_capacity: float
    generator_capacity: float
    generator_cost: float
    unmet_penalty: float
    wear_cost: float
    storage_value: float
    imbalance_cost: float

    def __call__(self, features: LiveFeatures) -> None:
        grid = features[GRID_OPERATOR]["GridFeature"]
        price = grid.price
        limit = self.line_capacity
        exchanged = 0.0
        for wiring in self.feeders:
            loads = [features[aid]["LoadFeature"] for aid in wiring.loads]
            panels = [features[aid]["SolarFeature"] for aid in wiring.panels]
            flows = [features[aid]["BatteryFlow"] for aid in wiring.batteries]
            discharged = sum(flow.power for flow in flows)
            net = sum(load.power for load in loads) - sum(panel.power for panel in panels) - discharged
            unmet = max(0.0, net - limit)
            net = min(limit, max(-limit, net))
            exchanged += net
            ledger = features[wiring.feeder]["LedgerFeature"]
            ledger.unmet = unmet
            ledger.cost = price * net + self.unmet_penalty * unmet + sum(
                self.wear_cost * abs(flow.power) + self.imbalance_cost * flow.missed - self.storage_value * flow.stored
                for flow in flows
            )
            features[wiring.feeder]["FeederFeature"].net_load = _net_load(loads, panels, wiring.storage_power)
        total_capacity = self.generator_capacity * len(self.generators)
        for aid in self.generators:
            generated = features[aid]["GeneratorFeature"].output * self.generator_capacity
            features[aid]["LedgerFeature"].cost = (self.generator_cost - price) * generated
            exchanged -= generated
        grid.net_import = exchanged / total_capacity
        grid.set_hour((int(grid.hour) + 1) % _HOURS_PER_DAY)


# ---------------------------------------------------------------- reference
class _RuleBasedDispatch(Policy):
    """The reference of the module docs: a feeder follows its net load, a generator covers the net import.

    It reads the named entries of an :class:`~heron.core.observation.Observation` (``env.step`` and
    event-driven runs hand it one), so it serves both kinds of acting agent.
    """

    observation_mode = "full"

    def __init__(self) -> None:
        self._budget = Action(self.policy_name).set_specs(dim_c=1, range=(np.array([-1.0]), np.array([1.0])))
        self._commitment = Action(self.policy_name).set_specs(ncats=[len(GENERATOR_LEVELS)])

    def forward(self, obs: Any) -> Action:
        if not isinstance(obs, Observation):
            raise ObservationError(f"{self.policy_name}: the microgrid reference reads named observation entries; "
                                   f"give it an Observation, got {type(obs).__name__}")
        local = obs.local
        if "FeederFeature" in local:
            socs = [float(value[0]) for key, value in local.items() if key.endswith(".BatteryFeature")]
            budget = float(local["FeederFeature"][0])  # clipped to [-1, 1]: charge on surplus, discharge on deficit
            if (budget < 0.0 and min(socs) > _FULL) or (budget > 0.0 and max(socs) < _EMPTY):
                budget = 0.0  # no battery can follow it
            return self._budget.copy().set_values([budget])
        if "GeneratorFeature" in local:
            net_import = float(obs.global_info[f"{GRID_OPERATOR}.GridFeature"][_NET_IMPORT])
            needed = float(local["GeneratorFeature"][0]) + net_import
            covering = [index for index, level in enumerate(GENERATOR_LEVELS) if level >= needed]
            return self._commitment.copy().set_values([covering[0] if covering else len(GENERATOR_LEVELS) - 1])
        raise ObservationError(f"{self.policy_name}: the microgrid reference drives feeders and generators; the "
                               f"observation holds {sorted(local)}")


def microgrid_reference() -> Policy:
    """The rule-based reference of every microgrid (see the module docs)."""
    return _RuleBasedDispatch()


# ------------------------------------------------------------------- config
def microgrid_config(
    num_coordinators: int = 2,
    batteries_per_coordinator: int = 2,
    pv_per_coordinator: int = 1,
    loads_per_coordinator: int = 3,
    num_generators: int = 1,
    max_steps: int = 24,
    battery_capacity: float = 3.0,
    battery_power: float = 1.0,
    battery_efficiency: float = 0.95,
    pv_capacity: float = 3.0,
    line_capacity: float = 2.0,
    generator_capacity: float = 2.0,
    generator_cost: float = 0.3,
    generator_ramp: float = 0.5,
    unmet_penalty: float = 1.0,
    wear_cost: float = 0.01,
    storage_value: float = 0.3,
    imbalance_cost: float = 0.2,
    observation_mode: str = "full",
) -> dict[str, Any]:
    """The flat env_config of the microgrid env (the dynamics are in the module docs).

    Args:
        num_coordinators: number of feeders (coordinators), each with the devices below.
        batteries_per_coordinator: batteries per feeder (at least 1: they carry its action).
        pv_per_coordinator: PV panels per feeder.
        loads_per_coordinator: residential loads (peak 1 kW) per feeder.
        num_generators: dispatchable generators under the grid operator (at least 1).
        max_steps: episode length in hours (24: one day).
        battery_capacity: energy capacity of every battery (kWh).
        battery_power: rated power of every battery (kW).
        battery_efficiency: one-way efficiency of every battery, in (0, 1].
        pv_capacity: clear-sky peak output of every panel (kW).
        line_capacity: capacity of every feeder's line to the grid (kW); demand above it is unmet.
        generator_capacity: capacity of every generator (kW).
        generator_cost: fuel cost of every generator per kWh.
        generator_ramp: the most a generator's output changes in an hour, as a fraction of its capacity.
        unmet_penalty: cost of each kWh of unmet demand.
        wear_cost: battery wear cost per kWh charged or discharged.
        storage_value: what a kWh in a battery is worth: a feeder is credited it for each kWh its batteries gain
            and pays it for each kWh they lose, so that emptying them is not free.
        imbalance_cost: cost of each kWh of its budget a battery cannot follow (because it is full or empty).
        observation_mode: the observation mode of the feeders and generators (``"full"`` adds the public clock
            and price to what they see of themselves).
    """
    where = "microgrid"
    counts = {
        "num_coordinators": (num_coordinators, 1), "batteries_per_coordinator": (batteries_per_coordinator, 1),
        "pv_per_coordinator": (pv_per_coordinator, 0), "loads_per_coordinator": (loads_per_coordinator, 0),
        "num_generators": (num_generators, 1), "max_steps": (max_steps, 1),
    }
    for name, (value, minimum) in counts.items():
        check_number(value, f"{where} {name}", minimum=minimum, integer=True)
    positive = {"battery_capacity": battery_capacity, "battery_power": battery_power, "line_capacity": line_capacity,
                "generator_capacity": generator_capacity}
    for name, value in positive.items():
        check_number(value, f"{where} {name}", minimum=0, exclusive_minimum=True)
    for name, value in {"pv_capacity": pv_capacity, "generator_cost": generator_cost,
                        "unmet_penalty": unmet_penalty, "wear_cost": wear_cost, "storage_value": storage_value,
                        "imbalance_cost": imbalance_cost}.items():
        check_number(value, f"{where} {name}", minimum=0)
    check_number(battery_efficiency, f"{where} battery_efficiency", minimum=0, exclusive_minimum=True, maximum=1)
    check_number(generator_ramp, f"{where} generator_ramp", minimum=0, exclusive_minimum=True, maximum=1)
    check_observation_mode(observation_mode, f"{where} observation_mode")

    battery = {"capacity": battery_capacity, "power": battery_power, "efficiency": battery_efficiency}
    agents: list[dict[str, Any]] = []
    coordinators: list[dict[str, Any]] = []
    wiring = []
    for index in range(num_coordinators):
        feeder = f"feeder_{index}"
        kinds = {
            "battery": (batteries_per_coordinator, Battery, battery),
            "pv": (pv_per_coordinator, SolarPanel, {"capacity": pv_capacity}),
            "load": (loads_per_coordinator, Load, {}),
        }
        ids = {kind: [f"{feeder}_{kind}_{k}" for k in range(count)] for kind, (count, _, _) in kinds.items()}
        for kind, (_, cls, kwargs) in kinds.items():
            agents += [{"agent_id": aid, "agent_cls": cls, "coordinator": feeder, "kwargs": kwargs}
                       for aid in ids[kind]]
        coordinators.append({"coordinator_id": feeder, "agent_cls": Feeder, "protocol": BudgetProtocol,
                             "observation_mode": observation_mode})
        wiring.append(_FeederWiring(feeder, tuple(ids["battery"]), tuple(ids["pv"]), tuple(ids["load"]),
                                    batteries_per_coordinator * battery_power))
    generators = [f"generator_{index}" for index in range(num_generators)]
    agents += [{"agent_id": aid, "agent_cls": Generator, "observation_mode": observation_mode,
                "kwargs": {"ramp": generator_ramp}} for aid in generators]
    settlement = _Settlement(tuple(wiring), tuple(generators), line_capacity, generator_capacity, generator_cost,
                             unmet_penalty, wear_cost, storage_value, imbalance_cost)
    devices = batteries_per_coordinator + pv_per_coordinator + loads_per_coordinator
    return {
        "env_id": f"microgrid_{num_coordinators}x{devices}_{num_generators}",
        "agents": agents,
        "coordinators": coordinators,
        "system": {"agent_id": GRID_OPERATOR, "features": [GridFeature()]},
        "simulation": in_place_simulation(settlement),
        "max_steps": max_steps,
    }
