"""Building environments: a fluent :class:`EnvBuilder` and :func:`build_env` for flat env_config dicts.

The flat ``env_config`` (what RLlib users pass to ``.environment(env_config=...)``)::

    {
        "env_id": "two_room",                       # optional
        "agents": [                                 # required
            {"agent_id": "room_a", "agent_cls": Thermostat,
             "features": [RoomTempFeature(temperature=18.0)],
             "coordinator": "building"},            # optional
        ],
        "coordinators": [                           # optional
            {"coordinator_id": "building", "protocol": "vertical"},
        ],
        "simulation": my_sim_func,                  # optional (None: apply_action only)
        "max_steps": 50,                            # optional, default 50
        "agent_ids": ["room_a", "room_b"],          # optional: order of the acting agents
    }

Agent specs also take ``observation_mode``, ``schedule_config`` and
``kwargs`` (extra constructor arguments); coordinator specs take
``agent_cls``, ``protocol``, ``features``, ``subordinates`` (agent ids or
glob patterns), ``observation_mode``, ``schedule_config`` and ``kwargs``; an
optional ``system`` spec takes the keys of a coordinator spec with
``agent_id`` (default ``"system_agent"``) instead of ``coordinator_id`` and
``subordinates``. Classes and functions may also be given as
``"module:attribute"`` strings. Unknown or missing keys are errors, and the
config is never modified (features are copied).
"""

from __future__ import annotations

import copy
import fnmatch
import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from heron.agents.base import Agent
from heron.agents.constants import SYSTEM_AGENT_ID
from heron.agents.coordinator_agent import CoordinatorAgent
from heron.agents.field_agent import FieldAgent
from heron.agents.system_agent import SystemAgent
from heron.core.errors import ConfigError
from heron.core.feature import Feature
from heron.core.observation import check_observation_mode
from heron.envs.base import DEFAULT_MAX_STEPS
from heron.envs.simple import DefaultHeronEnv
from heron.envs.simulation import InPlaceSimulationFn, SimulationFn
from heron.utils.validation import check_number

__all__ = ["EnvBuilder", "build_env"]

_ENV_CONFIG_KEYS: dict[str, bool] = {  # key -> required
    "agents": True,
    "coordinators": False,
    "system": False,
    "simulation": False,
    "max_steps": False,
    "agent_ids": False,
    "env_id": False,
}
_AGENT_KEYS = {"agent_id": True, "agent_cls": True, "features": False, "coordinator": False,
               "observation_mode": False, "schedule_config": False, "kwargs": False}
_COORDINATOR_KEYS = {"coordinator_id": True, "agent_cls": False, "protocol": False, "features": False,
                     "subordinates": False, "observation_mode": False, "schedule_config": False, "kwargs": False}
_SYSTEM_KEYS = {"agent_id": False, "agent_cls": False, "protocol": False, "features": False,
                "observation_mode": False, "schedule_config": False, "kwargs": False}


@dataclass
class _AgentSpec:
    """An agent to construct at build time: ``cls(agent_id=..., features=copies, **kwargs)``."""

    cls: type[Agent]
    agent_id: str
    features: list[Feature]
    kwargs: dict[str, Any]
    where: str
    observation_mode: str | None = None

    def make(self) -> Agent:
        kwargs = {"agent_id": self.agent_id, "features": copy.deepcopy(self.features), **self.kwargs}
        try:
            agent = self.cls(**kwargs)
        except Exception as exc:
            if repr(self.agent_id) not in str(exc):
                exc.add_note(f"(raised while the builder constructed {self.cls.__name__}(**{sorted(kwargs)}) "
                             f"for agent {self.agent_id!r}, {self.where})")
            raise
        if not isinstance(agent, Agent) or agent.agent_id != self.agent_id:
            raise ConfigError(f"{self.where}: {self.cls.__name__}(agent_id={self.agent_id!r}) built {agent!r}")
        if self.observation_mode is not None:
            agent.observation_mode = self.observation_mode
        return agent


@dataclass
class _Coordinator:
    """A coordinator (object or spec) and the field agents it names itself (ids and glob patterns)."""

    source: Agent | _AgentSpec
    subordinates: list[str] = field(default_factory=list)


def _make(source: Agent | _AgentSpec) -> Agent:
    return source if isinstance(source, Agent) else source.make()


def _spec(
    agent_id: Any, cls: Any, base: type[Agent], features: Any, schedule_config: Any, kwargs: dict[str, Any], where: str
) -> _AgentSpec:
    if not isinstance(agent_id, str) or not agent_id:
        raise ConfigError(f"{where}: the agent id must be a non-empty string, got {agent_id!r}")
    wrong_level = base is not SystemAgent and isinstance(cls, type) and issubclass(cls, SystemAgent)
    if not (isinstance(cls, type) and issubclass(cls, base)) or wrong_level:
        raise ConfigError(f"{where}: the agent class must be a subclass of {base.__name__}, got {cls!r}")
    clashing = sorted({"agent_id", "features"} & set(kwargs))
    if clashing:
        raise ConfigError(f"{where}: {clashing} are given by the builder; remove them from the constructor arguments")
    if schedule_config is not None:
        kwargs = {**kwargs, "schedule_config": schedule_config}
    return _AgentSpec(cls, agent_id, _feature_list(features, where), kwargs, where)


def _feature_list(features: Any, where: str) -> list[Feature]:
    """The features to copy into each built agent (classes are instantiated)."""
    if features is None:
        return []
    if not isinstance(features, (list, tuple)):
        raise ConfigError(f"{where}: 'features' must be a list of Feature instances, got {features!r}")
    out = []
    for feature in features:
        if isinstance(feature, type) and issubclass(feature, Feature):
            feature = feature()
        if not isinstance(feature, Feature):
            raise ConfigError(f"{where}: {feature!r} in 'features' is not a Feature")
        out.append(feature)
    return out


class EnvBuilder:
    """Assemble a :class:`DefaultHeronEnv`.

    Agents are given as classes (constructed at :meth:`build`, with copies of
    the features) or as objects. Field agents without a coordinator sit
    directly under the system agent.

    Example::

        env = (EnvBuilder("sensors")
               .add_agents("sensor", SensorAgent, count=2, features=[SensorReading()], coordinator="zone")
               .add_agent("probe", SensorAgent, features=[SensorReading()])
               .add_coordinator("zone")
               .simulation(my_sim_func)
               .max_steps(50)
               .build())
    """

    def __init__(self, env_id: str = "heron_env") -> None:
        self._env_id = env_id
        self._field: list[tuple[Agent | _AgentSpec, str | None]] = []
        self._coordinators: list[_Coordinator] = []
        self._system: Agent | _AgentSpec | None = None
        self._simulation: SimulationFn | InPlaceSimulationFn | None = None
        self._max_steps = DEFAULT_MAX_STEPS
        self._agent_ids: list[str] | None = None

    # -------------------------------------------------------------- agents
    def add_agent(self, agent: FieldAgent | str, *args: Any, **kwargs: Any) -> EnvBuilder:
        """Add one field agent, in either form::

            add_agent(agent_id, agent_cls, features=None, coordinator=None, schedule_config=None, **ctor_kwargs)
            add_agent(agent, coordinator=None)      # an agent object

        ``coordinator`` is the id of the coordinator it sits under.
        """
        if isinstance(agent, Agent):
            return self._add_field_object(agent, *args, **kwargs)
        return self._add_field_spec(agent, *args, **kwargs)

    def add_agents(
        self,
        prefix: str,
        agent_cls: type[FieldAgent],
        count: int = 1,
        features: Sequence[Feature] | None = None,
        schedule_config: Any = None,
        coordinator: str | None = None,
        **kwargs: Any,
    ) -> EnvBuilder:
        """Add ``count`` field agents of ``agent_cls`` with ids ``prefix_0``, ``prefix_1``, ... (``prefix`` if one)."""
        count = check_number(count, f"add_agents({prefix!r}): count", minimum=1, integer=True)
        for index in range(count):
            agent_id = f"{prefix}_{index}" if count > 1 else prefix
            self._add_field_spec(agent_id, agent_cls, features, coordinator, schedule_config, **kwargs)
        return self

    def _add_field_spec(
        self,
        agent_id: str,
        agent_cls: type[FieldAgent],
        features: Sequence[Feature] | None = None,
        coordinator: str | None = None,
        schedule_config: Any = None,
        **kwargs: Any,
    ) -> EnvBuilder:
        spec = _spec(agent_id, agent_cls, FieldAgent, features, schedule_config, kwargs, f"add_agent({agent_id!r})")
        self._field.append((spec, _coordinator_id(coordinator, agent_id)))
        return self

    def _add_field_object(self, agent: Agent, coordinator: str | None = None) -> EnvBuilder:
        if not isinstance(agent, FieldAgent):
            raise ConfigError(f"add_agent expects a FieldAgent, got {agent!r}")
        self._field.append((agent, _coordinator_id(coordinator, agent.agent_id)))
        return self

    # -------------------------------------------------------- coordinators
    def add_coordinator(self, coordinator: CoordinatorAgent | str, *args: Any, **kwargs: Any) -> EnvBuilder:
        """Add a coordinator, in either form::

            add_coordinator(coordinator_id, agent_cls=CoordinatorAgent, features=None, protocol=None,
                            subordinates=None, schedule_config=None, **ctor_kwargs)
            add_coordinator(coordinator)            # an agent object

        Its field agents are those added with ``coordinator=`` its id, plus
        ``subordinates``: agent ids or glob patterns (``"battery_*"``).
        """
        if isinstance(coordinator, Agent):
            return self._add_coordinator_object(coordinator, *args, **kwargs)
        return self._add_coordinator_spec(coordinator, *args, **kwargs)

    def _add_coordinator_spec(
        self,
        coordinator_id: str,
        agent_cls: type[CoordinatorAgent] = CoordinatorAgent,
        features: Sequence[Feature] | None = None,
        protocol: Any = None,
        subordinates: Sequence[str] | None = None,
        schedule_config: Any = None,
        **kwargs: Any,
    ) -> EnvBuilder:
        where = f"add_coordinator({coordinator_id!r})"
        if protocol is not None:
            kwargs = {**kwargs, "protocol": protocol}
        spec = _spec(coordinator_id, agent_cls, CoordinatorAgent, features, schedule_config, kwargs, where)
        self._coordinators.append(_Coordinator(spec, _patterns(subordinates, where)))
        return self

    def _add_coordinator_object(self, coordinator: Agent) -> EnvBuilder:
        if not isinstance(coordinator, CoordinatorAgent) or isinstance(coordinator, SystemAgent):
            raise ConfigError(f"add_coordinator expects a CoordinatorAgent, got {coordinator!r}")
        self._coordinators.append(_Coordinator(coordinator))
        return self

    # -------------------------------------------------------- system agent
    def add_system_agent(
        self, features: Sequence[Feature] | None = None, schedule_config: Any = None, **kwargs: Any
    ) -> EnvBuilder:
        """Configure the system agent (default: ``SystemAgent()``, id ``"system_agent"``).

        ``kwargs`` go to the ``SystemAgent`` constructor (``agent_id``, ``protocol``, ...).
        """
        agent_id = kwargs.pop("agent_id", SYSTEM_AGENT_ID)
        self._system = _spec(agent_id, SystemAgent, SystemAgent, features, schedule_config, kwargs,
                             "add_system_agent()")
        return self

    def set_system(self, system: Agent) -> EnvBuilder:
        """Use the system agent object ``system`` (a :class:`SystemAgent`)."""
        if not isinstance(system, SystemAgent):
            raise ConfigError(f"set_system expects a SystemAgent, got {system!r}")
        self._system = system
        return self

    # --------------------------------------------------------- env options
    def simulation(self, function: SimulationFn | InPlaceSimulationFn | None) -> EnvBuilder:
        """Set the simulation function (see :mod:`heron.envs.simulation` for its two forms)."""
        if function is not None and not callable(function):
            raise ConfigError(f"simulation must be callable or None, got {function!r}")
        self._simulation = function
        return self

    def max_steps(self, steps: int) -> EnvBuilder:
        """Set the episode length (steps before truncation)."""
        self._max_steps = check_number(steps, "max_steps", minimum=1, integer=True)
        return self

    def agent_ids(self, agent_ids: Sequence[str]) -> EnvBuilder:
        """Fix the order of the acting agents (must list exactly the acting agents)."""
        if isinstance(agent_ids, str) or not isinstance(agent_ids, Sequence):
            raise ConfigError(f"agent_ids must be a list of agent ids, got {agent_ids!r}")
        self._agent_ids = list(agent_ids)
        return self

    # --------------------------------------------------------------- build
    def build(self) -> DefaultHeronEnv:
        """Construct the agents, link the hierarchy and return the env."""
        if not self._field:
            raise ConfigError("an env needs at least one field agent")
        fields = [(_make(source), coordinator) for source, coordinator in self._field]
        coordinators = [(_make(entry.source), entry.subordinates) for entry in self._coordinators]
        system = _make(self._system) if self._system is not None else SystemAgent()
        hierarchy = self._hierarchy(fields, coordinators, system)
        agents = [agent for agent, _ in fields] + [agent for agent, _ in coordinators] + [system]
        return DefaultHeronEnv(agents, hierarchy, self._simulation, self._env_id,
                               max_steps=self._max_steps, agent_ids=self._agent_ids)

    @staticmethod
    def _hierarchy(
        fields: list[tuple[Agent, str | None]], coordinators: list[tuple[Agent, list[str]]], system: Agent
    ) -> dict[str, list[str]]:
        """``{parent: [children]}``: coordinators over their field agents, the system over the rest."""
        field_ids = [agent.agent_id for agent, _ in fields]
        members: dict[str, list[str]] = {}
        for coordinator, patterns in coordinators:
            members[coordinator.agent_id] = _matching(field_ids, patterns, coordinator.agent_id)
        for agent, coordinator_id in fields:
            if coordinator_id is None:
                continue
            if coordinator_id not in members:
                raise ConfigError(
                    f"agent {agent.agent_id!r} names unknown coordinator {coordinator_id!r}; "
                    f"coordinators are {list(members)}"
                )
            if agent.agent_id not in members[coordinator_id]:
                members[coordinator_id].append(agent.agent_id)
        hierarchy: dict[str, list[str]] = {}
        for coordinator, _ in coordinators:
            kids = members[coordinator.agent_id]
            if kids:
                hierarchy[coordinator.agent_id] = kids
            elif not coordinator.subordinates:
                raise ConfigError(f"coordinator {coordinator.agent_id!r} has no field agents")
        placed = {aid for kids in hierarchy.values() for aid in kids}
        placed.update(aid for coordinator, _ in coordinators for aid in coordinator.subordinates)
        top = [c.agent_id for c, _ in coordinators] + [aid for aid in field_ids if aid not in placed]
        hierarchy[system.agent_id] = top
        return hierarchy

    # --------------------------------------------------------- from config
    @classmethod
    def from_config(cls, env_config: Mapping[str, Any]) -> EnvBuilder:
        """A builder holding what the flat ``env_config`` describes (the config is not modified)."""
        _check_keys(env_config, _ENV_CONFIG_KEYS, "env_config")
        builder = cls(str(env_config.get("env_id", "heron_env")))
        agents = env_config["agents"]
        if not isinstance(agents, (list, tuple)) or not agents:
            raise ConfigError("env_config['agents'] must be a non-empty list of agent specs")
        coordinators = env_config.get("coordinators") or []
        if not isinstance(coordinators, (list, tuple)):
            raise ConfigError("env_config['coordinators'] must be a list of coordinator specs")
        for index, spec in enumerate(coordinators):
            where = f"env_config['coordinators'][{index}]"
            _check_keys(spec, _COORDINATOR_KEYS, where)
            entry = _config_spec(spec, spec["coordinator_id"], CoordinatorAgent, where)
            builder._coordinators.append(_Coordinator(entry, _patterns(spec.get("subordinates"), where)))
        for index, spec in enumerate(agents):
            where = f"env_config['agents'][{index}]"
            _check_keys(spec, _AGENT_KEYS, where)
            entry = _config_spec(spec, spec["agent_id"], FieldAgent, where, required_cls=True)
            builder._field.append((entry, _coordinator_id(spec.get("coordinator"), spec["agent_id"])))
        if env_config.get("system") is not None:
            spec = env_config["system"]
            _check_keys(spec, _SYSTEM_KEYS, "env_config['system']")
            builder._system = _config_spec(spec, spec.get("agent_id", SYSTEM_AGENT_ID), SystemAgent,
                                           "env_config['system']")
        builder.simulation(_resolve(env_config.get("simulation"), "env_config['simulation']"))
        builder.max_steps(env_config.get("max_steps", DEFAULT_MAX_STEPS))
        if env_config.get("agent_ids") is not None:
            builder.agent_ids(env_config["agent_ids"])
        return builder


def build_env(env_config: Mapping[str, Any]) -> DefaultHeronEnv:
    """Build a :class:`DefaultHeronEnv` from a flat ``env_config`` dict (see module docs)."""
    return EnvBuilder.from_config(env_config).build()


# ------------------------------------------------------------------ helpers
def _coordinator_id(coordinator: Any, agent_id: str) -> str | None:
    if coordinator is not None and (not isinstance(coordinator, str) or not coordinator):
        raise ConfigError(f"agent {agent_id!r}: coordinator must be a coordinator id or None, got {coordinator!r}")
    return coordinator


def _patterns(subordinates: Any, where: str) -> list[str]:
    if subordinates is None:
        return []
    if isinstance(subordinates, str) or not isinstance(subordinates, Sequence) or not all(
        isinstance(item, str) for item in subordinates
    ):
        raise ConfigError(f"{where}: subordinates must be a list of agent ids or glob patterns, got {subordinates!r}")
    return list(subordinates)


def _matching(field_ids: Sequence[str], patterns: Sequence[str], coordinator_id: str) -> list[str]:
    """The field agent ids that ``patterns`` (ids or glob patterns) name; each must name at least one."""
    found: list[str] = []
    for pattern in patterns:
        matches = [aid for aid in field_ids if fnmatch.fnmatchcase(aid, pattern)]
        if not matches:
            raise ConfigError(
                f"coordinator {coordinator_id!r}: subordinates entry {pattern!r} names no field agent; "
                f"field agents are {list(field_ids)}"
            )
        found.extend(aid for aid in matches if aid not in found)
    return found


def _check_keys(spec: Any, allowed: Mapping[str, bool], where: str) -> None:
    if not isinstance(spec, Mapping):
        raise ConfigError(f"{where} must be a dict, got {type(spec).__name__}")
    unknown = sorted(set(spec) - set(allowed))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; allowed keys are {sorted(allowed)}")
    missing = [key for key, required in allowed.items() if required and key not in spec]
    if missing:
        raise ConfigError(f"{where}: missing required key(s) {missing}")


def _resolve(value: Any, where: str) -> Any:
    """Import ``"module:attribute"`` strings; return anything else unchanged."""
    if not isinstance(value, str):
        return value
    module_name, _, attribute = value.partition(":")
    if not attribute:
        raise ConfigError(f"{where}: {value!r} must be an object or a 'module:attribute' string")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"{where}: cannot import {value!r}: {exc}") from exc


def _config_spec(
    spec: Mapping[str, Any], agent_id: Any, base: type[Agent], where: str, required_cls: bool = False
) -> _AgentSpec:
    """The agent spec of one env_config entry."""
    cls = _resolve(spec["agent_cls"] if required_cls else spec.get("agent_cls", base), f"{where}.agent_cls")
    kwargs = spec.get("kwargs") or {}
    if not isinstance(kwargs, Mapping):
        raise ConfigError(f"{where}: 'kwargs' must be a dict of constructor arguments, got {kwargs!r}")
    kwargs = dict(kwargs)
    if spec.get("protocol") is not None:
        kwargs["protocol"] = spec["protocol"]
    schedule_config = copy.deepcopy(spec["schedule_config"]) if "schedule_config" in spec else None
    entry = _spec(agent_id, cls, base, spec.get("features", []), schedule_config, kwargs, where)
    if "observation_mode" in spec:
        entry.observation_mode = check_observation_mode(spec["observation_mode"], where)
    return entry
