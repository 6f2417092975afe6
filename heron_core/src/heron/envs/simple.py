"""``DefaultHeronEnv``: an env whose plant is a plain simulation function.

The function sees ``{agent_id: {feature_name: {field: value}}}`` (a copy)
and returns the next state in the same shape, or, decorated with
:func:`~heron.envs.simulation.in_place_simulation`, sets the live features
itself. Either way the env writes and checks the result.

Example::

    env = DefaultHeronEnv(
        agents=[SystemAgent(), CoordinatorAgent("building"), room_a, room_b],
        hierarchy={"system_agent": ["building"], "building": ["room_a", "room_b"]},
        simulation_func=my_simulation,
    )
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from heron.agents.base import Agent
from heron.core.errors import ConfigError, SimulationError
from heron.envs.base import DEFAULT_MAX_STEPS, BaseEnv
from heron.envs.simulation import AgentStates, InPlaceSimulationFn, LiveFeatures, SimulationFn, is_in_place

__all__ = ["DefaultHeronEnv"]

_BRIDGE = ("global_state_to_env_state", "run_simulation", "env_state_to_global_state")


class DefaultHeronEnv(BaseEnv):
    """A hierarchical multi-agent environment driven by a simulation function.

    Build it directly (the arguments of :class:`~heron.envs.base.BaseEnv`
    plus ``simulation_func``), with :class:`~heron.envs.builder.EnvBuilder`
    or with :func:`~heron.envs.builder.build_env`.

    Args:
        agents, hierarchy, env_id, coordinator_agents, max_steps, agent_ids:
            as for :class:`~heron.envs.base.BaseEnv`.
        simulation_func: the simulation function (see :mod:`heron.envs.simulation`
            for its two forms), or ``None`` when ``apply_action`` is the only dynamics.
    """

    def __init__(
        self,
        agents: Sequence[Agent] | None = None,
        hierarchy: Mapping[str, Sequence[str]] | None = None,
        simulation_func: SimulationFn | InPlaceSimulationFn | None = None,
        env_id: str = "heron_env",
        *,
        coordinator_agents: Sequence[Agent] | None = None,
        max_steps: int = DEFAULT_MAX_STEPS,
        agent_ids: Sequence[str] | None = None,
    ) -> None:
        if simulation_func is not None and not callable(simulation_func):
            raise ConfigError(f"env {env_id!r}: simulation_func must be callable or None, got {simulation_func!r}")
        self._simulation = simulation_func
        self._in_place = is_in_place(simulation_func)
        super().__init__(
            agents, hierarchy, env_id, coordinator_agents=coordinator_agents, max_steps=max_steps, agent_ids=agent_ids
        )
        self._live_features: LiveFeatures = MappingProxyType(
            {aid: MappingProxyType(features) for aid, features in self._features_by_agent}
        )
        # Without overrides of the bridge, the function gets and returns the global state's features: skip the rest.
        cls = type(self)
        self._direct = all(getattr(cls, name) is getattr(DefaultHeronEnv, name) for name in _BRIDGE)

    @property
    def simulation(self) -> SimulationFn | InPlaceSimulationFn | None:
        """The simulation function given at construction."""
        return self._simulation

    def run_simulation(self, env_state: AgentStates) -> AgentStates:
        """The simulation function's next state (the dict contract)."""
        return self._simulation(env_state)  # type: ignore[misc,return-value]

    def global_state_to_env_state(self, global_state: dict[str, Any]) -> AgentStates:
        """``{agent_id: {feature_name: {field: value}}}`` from the global state (what the function sees)."""
        return {aid: entry["features"] for aid, entry in global_state["agent_states"].items() if entry["features"]}

    def env_state_to_global_state(self, env_state: AgentStates) -> dict[str, Any]:
        """The global state ``{"agent_states": {agent_id: {"features": ...}}}`` from the function's result."""
        if not isinstance(env_state, (dict, Mapping)):
            raise SimulationError(
                f"env {self.env_id!r}: the simulation must return the agent_states dict "
                f"{{agent_id: {{feature: {{field: value}}}}}}, got {type(env_state).__name__}"
            )
        return {"agent_states": {aid: {"features": features} for aid, features in env_state.items()}}

    def _advance_plant(self) -> None:
        if self._in_place:
            result = self._simulation(self._live_features)  # type: ignore[misc]
            if result is not None:
                raise SimulationError(
                    f"env {self.env_id!r}: an in_place_simulation sets the features and returns None, "
                    f"got {type(result).__name__}"
                )
        elif self._simulation is None:
            return
        elif self._direct:
            self._write_back(self._simulation(self.simulation_state()))
        else:
            super()._advance_plant()
