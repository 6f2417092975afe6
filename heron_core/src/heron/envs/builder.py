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
``agent_cls``, ``protocol``, ``features``, ``observation_mode``,
``schedule_config`` and ``kwargs``; an optional ``system`` spec takes the
same keys with ``agent_id``. Classes and functions may also be given as
``"module:attribute"`` strings. Unknown or missing keys are errors, and the
config is never modified (features are copied).
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Mapping, Sequence
from typing import Any

from heron.agents.base import Agent
from heron.agents.coordinator_agent import CoordinatorAgent
from heron.agents.field_agent import FieldAgent
from heron.agents.system_agent import SystemAgent
from heron.core.errors import ConfigError
from heron.core.feature import Feature
from heron.core.observation import check_observation_mode
from heron.envs.simple import DefaultHeronEnv
from heron.envs.simulation import InPlaceSimulationFn, SimulationFn
from heron.protocols.registry import make_protocol
from heron.utils.validation import check_number

__all__ = ["DEFAULT_MAX_STEPS", "EnvBuilder", "build_env"]

DEFAULT_MAX_STEPS = 50

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
                     "observation_mode": False, "schedule_config": False, "kwargs": False}
_SYSTEM_KEYS = {"agent_id": False, "agent_cls": False, "protocol": False, "features": False,
                "observation_mode": False, "schedule_config": False, "kwargs": False}


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


def _features(spec: Mapping[str, Any], where: str) -> list[Feature]:
    features = spec.get("features", [])
    if not isinstance(features, (list, tuple)):
        raise ConfigError(f"{where}: 'features' must be a list of Feature instances, got {features!r}")
    out = []
    for feature in features:
        if isinstance(feature, type) and issubclass(feature, Feature):
            feature = feature()
        if not isinstance(feature, Feature):
            raise ConfigError(f"{where}: {feature!r} in 'features' is not a Feature")
        out.append(copy.deepcopy(feature))
    return out


def _make_agent(spec: Mapping[str, Any], agent_id: str, default_cls: type, base: type, where: str) -> Agent:
    cls = _resolve(spec.get("agent_cls", default_cls), f"{where}.agent_cls")
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ConfigError(f"{where}: agent_cls must be a subclass of {base.__name__}, got {cls!r}")
    kwargs = spec.get("kwargs") or {}
    if not isinstance(kwargs, Mapping):
        raise ConfigError(f"{where}: 'kwargs' must be a dict of constructor arguments, got {kwargs!r}")
    try:
        agent = cls(agent_id=agent_id, features=_features(spec, where), **kwargs)
    except TypeError as exc:
        raise ConfigError(f"{where}: cannot construct {cls.__name__}: {exc}") from exc
    if "observation_mode" in spec:
        agent.observation_mode = check_observation_mode(spec["observation_mode"], where)
    if "schedule_config" in spec:
        agent.schedule_config = copy.deepcopy(spec["schedule_config"])
    if "protocol" in spec:
        agent.protocol = make_protocol(spec["protocol"], agent_id)
    return agent


class EnvBuilder:
    """Assemble a :class:`DefaultHeronEnv` from agent objects.

    Example::

        env = (EnvBuilder("two_room")
               .add_agent(Thermostat("room_a", [RoomTempFeature()]))
               .add_agent(Thermostat("room_b", [RoomTempFeature()]))
               .simulation(my_sim_func)
               .max_steps(50)
               .build())
    """

    def __init__(self, env_id: str = "heron_env") -> None:
        self._env_id = env_id
        self._field: list[tuple[Agent, str | None]] = []
        self._coordinators: list[Agent] = []
        self._system: Agent | None = None
        self._simulation: SimulationFn | InPlaceSimulationFn | None = None
        self._max_steps = DEFAULT_MAX_STEPS
        self._agent_ids: list[str] | None = None

    def add_agent(self, agent: Agent, coordinator: str | None = None) -> EnvBuilder:
        """Add a field agent, optionally under the coordinator with id ``coordinator``."""
        if not isinstance(agent, FieldAgent):
            raise ConfigError(f"add_agent expects a FieldAgent, got {agent!r}")
        self._field.append((agent, coordinator))
        return self

    def add_coordinator(self, coordinator: Agent) -> EnvBuilder:
        """Add a coordinator; field agents name it in ``add_agent(..., coordinator=id)``."""
        if not isinstance(coordinator, CoordinatorAgent) or isinstance(coordinator, SystemAgent):
            raise ConfigError(f"add_coordinator expects a CoordinatorAgent, got {coordinator!r}")
        self._coordinators.append(coordinator)
        return self

    def set_system(self, system: Agent) -> EnvBuilder:
        """Replace the default system agent (id ``"system"``, no features, no action)."""
        if not isinstance(system, SystemAgent):
            raise ConfigError(f"set_system expects a SystemAgent, got {system!r}")
        self._system = system
        return self

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

    def build(self) -> DefaultHeronEnv:
        """Link the hierarchy, validate it and return the env."""
        system = self._system or SystemAgent("system")
        agents = [agent for agent, _ in self._field] + self._coordinators + [system]
        seen: set[str] = set()
        for agent in agents:
            if agent.agent_id in seen:
                raise ConfigError(f"duplicate agent id {agent.agent_id!r}")
            seen.add(agent.agent_id)
        if not self._field:
            raise ConfigError("an env needs at least one field agent")
        coordinators = {c.agent_id: c for c in self._coordinators}
        groups: dict[str, list[Agent]] = {cid: [] for cid in coordinators}
        top_level: list[Agent] = []
        for agent, coordinator_id in self._field:
            if coordinator_id is None:
                top_level.append(agent)
            elif coordinator_id in groups:
                groups[coordinator_id].append(agent)
            else:
                raise ConfigError(
                    f"agent {agent.agent_id!r} names unknown coordinator {coordinator_id!r}; "
                    f"coordinators are {list(coordinators)}"
                )
        for cid, members in groups.items():
            if not members:
                raise ConfigError(f"coordinator {cid!r} has no field agents")
            coordinators[cid].attach_subordinates(members)
        system.attach_subordinates(self._coordinators + top_level)
        exposed = self._exposed_ids(agents)
        return DefaultHeronEnv(agents, exposed, self._simulation, self._max_steps, self._env_id)

    def _exposed_ids(self, agents: Sequence[Agent]) -> list[str]:
        def controller(agent: Agent) -> Agent | None:
            upper = agent.upper
            return upper if upper is not None and upper.protocol is not None and upper.acts else None

        acting = [a.agent_id for a in agents if a.acts and controller(a) is None]
        if self._agent_ids is None:
            if not acting:
                raise ConfigError("no agent acts: every agent's init_action returned an empty Action")
            return acting
        by_id = {a.agent_id: a for a in agents}
        if len(set(self._agent_ids)) != len(self._agent_ids):
            raise ConfigError(f"agent_ids has duplicates: {self._agent_ids}")
        for aid in self._agent_ids:
            if aid not in by_id:
                raise ConfigError(f"agent_ids names unknown agent {aid!r}; agents are {list(by_id)}")
            if not by_id[aid].acts:
                raise ConfigError(f"agent_ids names {aid!r}, which has no action (empty init_action)")
            boss = controller(by_id[aid])
            if boss is not None:
                raise ConfigError(
                    f"agent_ids names {aid!r}, whose actions come from {boss.agent_id!r} through its protocol"
                )
        missing = [aid for aid in acting if aid not in self._agent_ids]
        if missing:
            raise ConfigError(f"agent_ids leaves out acting agent(s) {missing}; list every acting agent")
        return list(self._agent_ids)

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
            builder.add_coordinator(
                _make_agent(spec, spec["coordinator_id"], CoordinatorAgent, CoordinatorAgent, where)
            )
        for index, spec in enumerate(agents):
            where = f"env_config['agents'][{index}]"
            _check_keys(spec, _AGENT_KEYS, where)
            agent = _make_agent(spec, spec["agent_id"], FieldAgent, FieldAgent, where)
            builder.add_agent(agent, spec.get("coordinator"))
        if env_config.get("system") is not None:
            spec = env_config["system"]
            _check_keys(spec, _SYSTEM_KEYS, "env_config['system']")
            system_id = spec.get("agent_id", "system")
            builder.set_system(_make_agent(spec, system_id, SystemAgent, SystemAgent, "env_config['system']"))
        builder.simulation(_resolve(env_config.get("simulation"), "env_config['simulation']"))
        builder.max_steps(env_config.get("max_steps", DEFAULT_MAX_STEPS))
        if env_config.get("agent_ids") is not None:
            builder.agent_ids(env_config["agent_ids"])
        return builder


def build_env(env_config: Mapping[str, Any]) -> DefaultHeronEnv:
    """Build a :class:`DefaultHeronEnv` from a flat ``env_config`` dict (see module docs)."""
    return EnvBuilder.from_config(env_config).build()
