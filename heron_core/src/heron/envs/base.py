"""The HERON multi-agent environment: agents, a hierarchy and a simulation step.

One synchronous step:

1. every acting agent's action is validated and set (``set_action``); an
   agent with a protocol passes its action down to its subordinates;
2. :meth:`BaseEnv.pre_step` runs, then every agent applies its action
   (``apply_action``), field agents first;
3. the simulation advances the plant: :meth:`~BaseEnv.global_state_to_env_state`
   turns the agents' state into the plant's, :meth:`~BaseEnv.run_simulation`
   maps it to the next one, :meth:`~BaseEnv.env_state_to_global_state` turns
   that back, and the result is written into the features; every field is
   then checked against the kind of value it held when the env was built
   (see :mod:`heron.core.feature`);
4. rewards are computed bottom-up (field agents, coordinators, system);
5. observations are gathered from the new state.

The global state the bridge works on is upstream HERON's::

    {"agent_states": {agent_id: {"features": {feature_name: {field: value}},
                                 "_owner_id": agent_id, "_owner_level": 1,
                                 "_state_type": "FieldAgentState"}}}

(the three ``_owner...``/``_state_type`` keys are optional on the way back;
agents and features left out keep their values).

An exception raised in an agent's method reaches the caller unchanged, with a
note naming the agent and the method.

``step`` returns Gymnasium-style multi-agent dicts keyed by the acting
agents (``env.agents``), with ``"__all__"`` in ``terminated`` and
``truncated``. Observations are :class:`~heron.core.observation.Observation`
objects; ``observation_space(agent_id)`` describes their flat vector in the
agent's observation mode.

:class:`BaseEnv` is the class to subclass for a custom simulation;
:class:`~heron.envs.simple.DefaultHeronEnv` drives it with a plain function.
"""

from __future__ import annotations

import copy
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np

from heron.agents._context import add_agent_note
from heron.agents.base import Agent
from heron.core._flatten import flatten
from heron.core.errors import ActionError, ConfigError, EnvNotResetError, SimulationError, UnknownAgentError
from heron.core.feature import IMMUTABLE_FIELD_TYPES
from heron.core.observation import Observation, check_observation_mode
from heron.core.policies import Policy
from heron.envs._hierarchy import acting_ids, link_agents
from heron.envs._layout import FieldSpec, StateLayout, describe
from heron.envs.simulation import AgentStates
from heron.utils.validation import check_number

if TYPE_CHECKING:
    from heron.scheduling.analysis import EpisodeAnalyzer, EventDrivenStats

__all__ = ["DEFAULT_MAX_STEPS", "BaseEnv"]

DEFAULT_MAX_STEPS = 50

_AGENT_STATE_KEYS = frozenset({"features", "_owner_id", "_owner_level", "_state_type"})

_LISTED = 5  # fields named in one state error
_FLOAT32 = np.dtype(np.float32)  # a dtype instance: astype skips looking it up on every state read


class BaseEnv(ABC):
    """A hierarchical multi-agent environment whose plant is :meth:`run_simulation`.

    Subclasses implement :meth:`run_simulation`; a plant with a state of its own
    (a power-flow model, a building model) also overrides
    :meth:`global_state_to_env_state` and :meth:`env_state_to_global_state`.

    Args:
        agents: the agents (with those already linked below them, e.g. by
            ``CoordinatorAgent(subordinates=...)``).
        hierarchy: ``{parent_id: [child_ids]}`` links between them. The top is
            the :class:`~heron.agents.system_agent.SystemAgent` among the
            agents, or a new ``SystemAgent()``; agents without a parent go
            under it unless ``hierarchy`` lists its children.
        env_id: a name for logs and error messages.
        coordinator_agents: more agents (upstream's README form
            ``DefaultHeronEnv(coordinator_agents=[...])``).
        max_steps: episode length; the episode is truncated after it.
        agent_ids: the agents that choose actions, in order (default: every
            agent with an action whose coordinator does not pass it one).
    """

    metadata: dict[str, Any] = {"name": "heron"}

    def __init__(
        self,
        agents: Sequence[Agent] | None = None,
        hierarchy: Mapping[str, Sequence[str]] | None = None,
        env_id: str = "heron_env",
        *,
        coordinator_agents: Sequence[Agent] | None = None,
        max_steps: int = DEFAULT_MAX_STEPS,
        agent_ids: Sequence[str] | None = None,
    ) -> None:
        self.env_id = env_id
        where = f"env {env_id!r}"
        self.max_steps = check_number(max_steps, f"{where}: max_steps", minimum=1, integer=True)
        agents = link_agents(agents or [], coordinator_agents or [], hierarchy, where)
        self.all_agents: dict[str, Agent] = {agent.agent_id: agent for agent in agents}
        self.possible_agents: list[str] = acting_ids(agents, agent_ids, where)
        self._layout = StateLayout(agents)
        self._states = {agent.agent_id: agent.state for agent in agents}  # where the simulation's results go
        self._features_by_agent = [(a.agent_id, a.state.features) for a in agents if a.state.features]
        self._copy_plan = [(aid, [(name, f, f.field_names) for name, f in features.items()])
                           for aid, features in self._features_by_agent]
        self._observation_spaces: dict[tuple[str, str], gym.spaces.Box] = {}
        self._np_random: np.random.Generator | None = None
        # The float64 state, refilled in place on every read. What compute_local_reward and is_terminated
        # receive are read-only views of it made once (valid during the call, as documented on Agent).
        self._state_buffer = np.zeros(self._layout.size)
        self._own_states = {
            aid: MappingProxyType({name: _read_only(self._state_buffer[sl]) for name, sl in view.own})
            for aid, view in self._layout.views.items()
        }
        self._has_pre_step = type(self).pre_step is not BaseEnv.pre_step
        # When every field is a scalar, a state read goes through the fields once without a per-field spec check.
        self._plain_fields = self._layout.fields if self._layout.all_scalar else []
        index = self._layout.global_index
        self._global_is_all = isinstance(index, slice) and index == slice(0, self._layout.size)  # no slicing then
        # The default reward (the sum of the subordinates' rewards, just computed) is summed inline.
        self._reward_inputs = [
            (aid, agent, self._own_states[aid],
             None if _overrides(agent, "compute_local_reward") else tuple(agent.subordinates))
            for aid, agent in self.all_agents.items()
        ]
        self._set_active([])
        # The float32 state observations are cut from: a new read-only array on every read (snapshots).
        self._state32 = np.zeros(self._layout.size, dtype=np.float32)
        self.step_count = 0
        self.timestamp = 0.0
        self.jitter_seed: int | None = None
        self._agent_policies: dict[str, Policy] | None = None
        self._needs_reset = True
        self._read_state("when the env was built")

    # ------------------------------------------------------------- spaces
    def action_space(self, agent_id: str) -> gym.Space:
        """The gymnasium action space of an acting agent (the same object on every call)."""
        return self.agent(agent_id).action.space

    def observation_space(self, agent_id: str, mode: str | None = None) -> gym.spaces.Box:
        """The Box of the agent's observation vector in ``mode`` (default: the agent's own mode)."""
        agent = self.agent(agent_id)
        mode = check_observation_mode(mode or agent.observation_mode, f"agent {agent_id!r}")
        key = (agent_id, mode)
        if key not in self._observation_spaces:
            size = self.observation_size(agent_id, mode)
            self._observation_spaces[key] = gym.spaces.Box(-np.inf, np.inf, (size,), dtype=np.float32)
        return self._observation_spaces[key]

    def observation_size(self, agent_id: str, mode: str) -> int:
        """Length of the agent's observation vector in ``mode``."""
        check_observation_mode(mode, f"agent {agent_id!r}")
        local = self._state32[self._layout.views[self.agent(agent_id).agent_id].local_index].size
        global_ = self._state32[self._layout.global_index].size
        return {"local": local, "global": global_, "full": local + global_}[mode]

    @property
    def state_space(self) -> gym.spaces.Box:
        """The Box of :meth:`state`."""
        if ("__state__", "state") not in self._observation_spaces:
            box = gym.spaces.Box(-np.inf, np.inf, (self._layout.size,), dtype=np.float32)
            self._observation_spaces[("__state__", "state")] = box
        return self._observation_spaces[("__state__", "state")]

    def agent(self, agent_id: str) -> Agent:
        """The agent object with id ``agent_id``."""
        agent = self.all_agents.get(agent_id)
        if agent is None:
            raise self._unknown_agent(agent_id)
        return agent

    # ------------------------------------------------------- episode flow
    def reset(
        self, *, seed: int | None = None, options: Mapping[str, Any] | None = None, jitter_seed: int | None = None
    ) -> tuple[dict[str, Observation], dict[str, dict[str, Any]]]:
        """Start an episode.

        ``seed`` seeds everything random in the env: each agent gets its own
        generator (for ``on_reset`` and ``Action.sample``) spawned from it.
        Without a seed the previous stream continues (fresh entropy the first time).
        ``jitter_seed`` seeds the timing jitter of the next event-driven run
        (see :mod:`heron.scheduling.runner`).
        """
        self.jitter_seed = jitter_seed
        if seed is not None:
            seed = check_number(seed, f"env {self.env_id!r}: seed", minimum=0, integer=True)
        if seed is not None or self._np_random is None:
            self._np_random = np.random.default_rng(seed)
        agent_rngs = self._np_random.spawn(len(self.all_agents))
        agent = None
        try:
            for agent, rng in zip(self.all_agents.values(), agent_rngs):
                agent.reset(rng)
        except Exception as exc:
            add_agent_note(exc, agent, "reset() (which calls on_reset(rng))")
            raise
        self.step_count = 0
        self.timestamp = 0.0
        self._set_active(self.possible_agents)
        self._needs_reset = False
        self._read_state("after reset (the construction values, then on_reset)")
        return {aid: self.observe(aid) for aid in self.agents}, {aid: {} for aid in self.agents}

    @property
    def np_random(self) -> np.random.Generator:
        """The env's generator (seeded by ``reset(seed=...)``)."""
        if self._np_random is None:
            self._np_random = np.random.default_rng()
        return self._np_random

    def step(self, actions: Mapping[str, Any]) -> tuple[
        dict[str, Observation],
        dict[str, float],
        dict[str, bool],
        dict[str, bool],
        dict[str, dict[str, Any]],
    ]:
        """Advance one synchronous step; ``actions`` must hold exactly the agents in ``env.agents``."""
        if self._needs_reset:
            raise EnvNotResetError(f"env {self.env_id!r}: call reset() before step() (and after an episode ends)")
        self.apply_actions(actions, require_all=True)
        self.simulate()
        all_rewards = self.compute_rewards()
        self.step_count += 1
        self.timestamp = float(self.step_count)
        truncated_all = self.step_count >= self.max_steps
        active = self.agents
        state32, global_entries, global_vector = self._state32, self._layout.global_entries, self._global_vector
        from_state, timestamp = Observation.from_state, self.timestamp
        observations: dict[str, Observation] = {}
        rewards: dict[str, float] = {}
        infos: dict[str, dict[str, Any]] = {}
        for aid, local, local_index in self._obs_inputs:  # what observe(aid) returns, without its lookups
            observations[aid] = from_state((state32, local, global_entries), timestamp, state32[local_index],
                                           global_vector)
            rewards[aid] = all_rewards[aid]
            infos[aid] = {}
        if truncated_all:
            truncations = dict.fromkeys(active, True)
            truncations["__all__"] = True
        else:
            truncations = {**self._none_done}
        terminated = self._terminations()
        if True in terminated.values():
            self._set_active([aid for aid in active if not terminated[aid]])
        terminated["__all__"] = not self.agents
        self._needs_reset = truncated_all or not self.agents
        return observations, rewards, terminated, truncations, infos

    # ------------------------------------------------------- event-driven
    def set_agent_policies(self, policies: Mapping[str, Policy]) -> None:
        """Give every acting agent its :class:`~heron.core.policies.Policy` for :meth:`run_event_driven`."""
        self._agent_policies = self.check_policies(policies)

    def check_policies(self, policies: Mapping[str, Policy] | None) -> dict[str, Policy]:
        """``policies`` as a dict, after checking it holds one :class:`Policy` per acting agent and nothing else."""
        if policies is None:
            raise ConfigError(
                f"env {self.env_id!r} has no policies: call env.set_agent_policies({{agent_id: Policy}}) first"
            )
        if not isinstance(policies, Mapping):
            raise ConfigError(f"policies must be a dict {{agent_id: Policy}}, got {type(policies).__name__}")
        for aid, policy in policies.items():
            if aid not in self.all_agents:
                raise UnknownAgentError(
                    f"env {self.env_id!r} has no agent {aid!r} to give a policy; "
                    f"acting agents are {self.possible_agents}"
                )
            if aid not in self.possible_agents:
                raise ConfigError(
                    f"agent {aid!r} does not choose actions in env {self.env_id!r} (no action of its own, or its "
                    f"actions come from its coordinator's protocol); acting agents are {self.possible_agents}"
                )
            if not isinstance(policy, Policy):
                raise ConfigError(f"the policy of agent {aid!r} must be a heron Policy, got {type(policy).__name__}")
        missing = [aid for aid in self.possible_agents if aid not in policies]
        if missing:
            raise ConfigError(
                f"no policy for acting agent(s) {missing} of env {self.env_id!r}; "
                f"policies were given for {sorted(policies)}"
            )
        return dict(policies)

    def run_event_driven(
        self, t_end: float, episode_analyzer: EpisodeAnalyzer | None = None, **options: Any
    ) -> EventDrivenStats:
        """Run the policies of :meth:`set_agent_policies` event-driven from the last reset up to ``t_end``.

        ``options``: ``schedule``, ``sim_interval``, ``jitter_seed`` of
        :func:`heron.scheduling.run_event_driven`. Returns its ``EventDrivenStats``.
        """
        from heron.scheduling.runner import run_event_driven

        return run_event_driven(self, self._agent_policies, t_end, episode_analyzer, **options)

    # ------------------------------------------------------- step pieces
    def apply_actions(self, actions: Mapping[str, Any], require_all: bool = False) -> None:
        """Validate and set actions of acting agents (``set_action``); protocols pass them down.

        Args:
            actions: ``{agent_id: action}`` (an Action, a flat vector or a gymnasium sample).
            require_all: whether every agent in ``env.agents`` must be present.
        """
        if type(actions) is not dict and not isinstance(actions, Mapping):
            raise ActionError(f"env {self.env_id!r}: actions must be a dict keyed by agent id, got {actions!r}")
        active = self._active
        if not active.issuperset(actions):
            unknown = [aid for aid in actions if aid not in active]
            known = [aid for aid in unknown if aid in self.all_agents]
            detail = f" ({known} do not choose actions or are done)" if known else ""
            raise UnknownAgentError(
                f"env {self.env_id!r}: actions for unknown agent(s) {unknown}{detail}; acting agents are {self.agents}"
            )
        if require_all and len(actions) != len(active):
            missing = [aid for aid in self.agents if aid not in actions]
            raise ActionError(f"env {self.env_id!r}: missing action(s) for agent(s) {missing}")
        all_agents = self.all_agents
        for aid, value in actions.items():
            agent = all_agents[aid]
            try:
                agent.set_action(value)
            except Exception as exc:
                add_agent_note(exc, agent, "set_action(action)")
                raise
            if agent.protocol is not None:
                try:
                    agent.protocol.dispatch(agent)
                except Exception as exc:
                    add_agent_note(exc, agent, f"protocol ({type(agent.protocol).__name__}) passing its action down")
                    raise

    def simulate(self) -> None:
        """Run :meth:`pre_step`, apply every agent's action, advance the plant one step and read the new state."""
        if self._has_pre_step:
            self.pre_step()
        agent = None
        try:
            for agent in self.all_agents.values():
                agent.apply_action()
        except Exception as exc:
            add_agent_note(exc, agent, "apply_action()")
            raise
        self._advance_plant()
        self._read_state()

    def pre_step(self) -> None:
        """Hook run before every simulation step, ahead of ``apply_action`` (default: nothing).

        Update env-level inputs here (a price or weather profile) that
        :meth:`run_simulation` reads.
        """

    def global_state_to_env_state(self, global_state: dict[str, Any]) -> Any:
        """The plant's own state from the global state (see the module docs; default: unchanged)."""
        return global_state

    @abstractmethod
    def run_simulation(self, env_state: Any) -> Any:
        """Advance the plant one time unit from ``env_state`` and return the next env state."""

    def env_state_to_global_state(self, env_state: Any) -> dict[str, Any]:
        """The global state ``{"agent_states": {...}}`` from the plant's state (default: unchanged).

        Agents and features left out keep their values.
        """
        return env_state

    @property
    def registered_agents(self) -> Mapping[str, Agent]:
        """``{agent_id: agent}`` of every agent in the env (upstream's name for :attr:`all_agents`)."""
        return self.all_agents

    def global_state(self) -> dict[str, Any]:
        """The global state the bridge starts from: every agent's features (copies) with upstream's metadata."""
        agents = self.all_agents.items()
        return {"agent_states": {aid: agent.state.to_dict(include_metadata=True) for aid, agent in agents}}

    def _advance_plant(self) -> None:
        env_state = self.global_state_to_env_state(self.global_state())
        self._write_global_state(self.env_state_to_global_state(self.run_simulation(env_state)))

    def _write_global_state(self, global_state: Any) -> None:
        where = f"env {self.env_id!r}: env_state_to_global_state"
        if not isinstance(global_state, (dict, Mapping)) or set(global_state) != {"agent_states"}:
            keys = sorted(global_state) if isinstance(global_state, Mapping) else type(global_state).__name__
            raise SimulationError(
                f"{where} must return {{'agent_states': {{agent_id: {{'features': {{feature: {{field: value}}}}}}}}}}, "
                f"got {keys}"
            )
        agent_states = global_state["agent_states"]
        if not isinstance(agent_states, (dict, Mapping)):
            raise SimulationError(f"{where}: 'agent_states' must be a dict keyed by agent id, got {agent_states!r}")
        self._write_back({aid: self._features_entry(aid, entry, where) for aid, entry in agent_states.items()})

    def _features_entry(self, aid: str, entry: Any, where: str) -> Any:
        """The ``features`` of one agent's entry, after checking its metadata names that agent."""
        agent = self.all_agents.get(aid)
        if agent is None:
            raise SimulationError(f"{where} returned unknown agent {aid!r}; agents are {list(self.all_agents)}")
        if not isinstance(entry, (dict, Mapping)) or "features" not in entry or not _AGENT_STATE_KEYS.issuperset(entry):
            raise SimulationError(
                f"{where}: agent {aid!r} must map to {{'features': {{...}}}} (with optional {sorted(_AGENT_STATE_KEYS)}"
                f" metadata), got {entry!r}"
            )
        state = agent.state
        expected = {"_owner_id": aid, "_owner_level": state.owner_level, "_state_type": type(state).__name__}
        for key, value in expected.items():
            if key in entry and entry[key] != value:
                raise SimulationError(f"{where}: agent {aid!r} has {key}={entry[key]!r}, expected {value!r}")
        return entry["features"]

    def _write_back(self, agent_states: Any) -> None:
        """Write ``{agent_id: {feature: {field: value}}}`` into the features (through their ``set_values``)."""
        if type(agent_states) is not dict and not isinstance(agent_states, Mapping):
            raise SimulationError(
                f"env {self.env_id!r}: the simulation must return the agent_states dict "
                f"{{agent_id: {{feature: {{field: value}}}}}}, got {type(agent_states).__name__}"
            )
        states = self._states
        for aid, agent_state in agent_states.items():
            state = states.get(aid)
            if state is None:
                raise SimulationError(
                    f"env {self.env_id!r}: the simulation returned unknown agent {aid!r}; "
                    f"agents are {list(self.all_agents)}"
                )
            state.update(agent_state)

    def compute_rewards(self) -> dict[str, float]:
        """Every agent's reward for the current state, bottom-up (stored as ``agent.last_reward``)."""
        rewards: dict[str, float] = {}
        agent = None
        try:
            for aid, agent, local_state, subordinate_ids in self._reward_inputs:
                if subordinate_ids is not None and "compute_local_reward" not in agent.__dict__:
                    reward = 0.0
                    for sub_id in subordinate_ids:
                        reward += rewards[sub_id]
                    agent.last_reward = rewards[aid] = reward
                    continue
                value = agent.compute_local_reward(local_state)
                if type(value) is float:
                    reward = value
                else:
                    try:
                        reward = float(value)
                    except (TypeError, ValueError):
                        raise self._reward_error(aid, value) from None
                if not math.isfinite(reward):
                    raise self._reward_error(aid, value)
                agent.last_reward = reward
                rewards[aid] = reward
        except Exception as exc:
            add_agent_note(exc, agent, "compute_local_reward(local_state)")
            raise
        return rewards

    def _terminations(self) -> dict[str, bool]:
        """``{agent_id: is_terminated(local_state)}`` of the acting agents, then ``"__all__": False``."""
        terminated = {**self._none_done}
        agent = None
        try:
            for aid, agent, local_state in self._active_inputs:
                if agent.is_terminated(local_state):
                    terminated[aid] = True
        except Exception as exc:
            add_agent_note(exc, agent, "is_terminated(local_state)")
            raise
        return terminated

    def observe(self, agent_id: str) -> Observation:
        """The agent's observation of the current state (a snapshot: later steps do not change it).

        Its vectors are cut from the float32 state now; ``local`` and ``global_info``
        are built from the same snapshot when first read.
        """
        view = self._layout.views.get(agent_id)
        if view is None:
            raise self._unknown_agent(agent_id)
        return Observation.from_state(
            (self._state32, view.local, self._layout.global_entries),
            self.timestamp,
            self._state32[view.local_index],
            self._global_vector,
        )

    def state(self) -> np.ndarray:
        """All features of all agents flattened (float32): the input of a centralized critic."""
        return self._state32.copy()

    def simulation_state(self) -> AgentStates:
        """``{agent_id: {feature_name: {field: value}}}`` of the current state (copies of mutable values).

        What each feature's ``values()`` returns, read without a method call per feature (a hot path).
        """
        state: AgentStates = {}
        immutable = IMMUTABLE_FIELD_TYPES
        for aid, features in self._copy_plan:
            state[aid] = agent_state = {}
            for name, feature, field_names in features:
                agent_state[name] = values = {}
                for field_name in field_names:
                    value = getattr(feature, field_name)
                    values[field_name] = value if type(value) in immutable else copy.deepcopy(value)
        return state

    def close(self) -> None:
        """Release resources (nothing to release; present for the Gymnasium contract)."""

    # ------------------------------------------------------------ helpers
    def _unknown_agent(self, agent_id: str) -> UnknownAgentError:
        known = list(self.all_agents)
        return UnknownAgentError(f"env {self.env_id!r} has no agent {agent_id!r}; its agents are {known}")

    def _reward_error(self, agent_id: str, reward: Any) -> SimulationError:
        return SimulationError(
            f"env {self.env_id!r}: agent {agent_id!r} computed the reward {reward!r}; expected a finite number"
        )

    def _set_active(self, agent_ids: Sequence[str]) -> None:
        """Make ``agent_ids`` the acting agents, with what a step needs of each of them precomputed."""
        self.agents = list(agent_ids)
        self._active = frozenset(agent_ids)
        views = self._layout.views
        self._active_inputs = [(aid, self.all_agents[aid], self._own_states[aid]) for aid in agent_ids]
        self._obs_inputs = [(aid, views[aid].local, views[aid].local_index) for aid in agent_ids]
        self._none_done = {**dict.fromkeys(agent_ids, False), "__all__": False}  # copied for each step's flags

    def _read_state(self, after: str = "after the step's apply_action and simulation") -> None:
        """Read every feature field into the state vectors (``after``: when, for error messages).

        Every field must still hold what its :class:`~heron.envs._layout.FieldSpec` says (a number in a
        scalar field, the same count of numbers in an array field), and only finite numbers.
        """
        values: list[Any] = []
        for feature, name in self._plain_fields:
            value = getattr(feature, name)
            if type(value) is float or type(value) is int:
                values.append(value)
            else:
                break
        if len(values) != self._layout.size:  # not all plain numbers in scalar fields: check every field
            values = self._checked_numbers(after)
        if not math.isfinite(sum(values)) and not np.isfinite(values).all():
            raise self._non_finite_error(after)
        self._state_buffer[:] = values
        state32 = self._state_buffer.astype(_FLOAT32)
        state32.setflags(False)  # write=False, passed positionally: half the cost of the keyword call
        self._state32 = state32
        self._global_vector = state32 if self._global_is_all else state32[self._layout.global_index]

    def _checked_numbers(self, after: str) -> list[float]:
        """The numbers of every field (in state order), after checking each field against its spec."""
        numbers: list[float] = []
        problems: list[str] = []
        for (feature, name), spec in zip(self._layout.fields, self._layout.field_specs):
            problem = spec.collect(getattr(feature, name), numbers)
            if problem is not None:
                problems.append(f"{self._field_where(spec)} holds {problem} {after}; expected {spec.expected}")
        if problems:
            raise _state_error(problems)
        return numbers

    def _non_finite_error(self, after: str) -> SimulationError:
        """The error naming the fields holding NaN or infinity."""
        problems = []
        for (feature, name), spec in zip(self._layout.fields, self._layout.field_specs):
            value = getattr(feature, name)
            if not np.isfinite(flatten(value, name)).all():
                problems.append(f"{self._field_where(spec)} holds NaN or infinity {after}: {describe(value)}; "
                                "expected finite numbers")
        return _state_error(problems)

    def _field_where(self, spec: FieldSpec) -> str:
        return f"env {self.env_id!r}: agent {spec.agent_id!r} feature {spec.feature_name!r} field {spec.field_name!r}"


def _state_error(problems: list[str]) -> SimulationError:
    """One error naming every field that does not fit, one a line (up to ``_LISTED``).

    A simulation spreads one agent's wrong value to the others: the agent named first is not always
    the one that wrote it.
    """
    more = f"\n(and {len(problems) - _LISTED} more)" if len(problems) > _LISTED else ""
    return SimulationError("\n".join(problems[:_LISTED]) + more)


def _overrides(agent: Agent, method: str) -> bool:
    """Whether ``agent``'s class overrides the :class:`Agent` default of ``method``."""
    return getattr(type(agent), method) is not getattr(Agent, method)


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array

