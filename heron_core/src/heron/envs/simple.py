"""``DefaultHeronEnv``: an env whose plant is a plain simulation function."""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType

from heron.agents.base import Agent
from heron.core.errors import SimulationError
from heron.envs.base import BaseEnv
from heron.envs.simulation import AgentStates, InPlaceSimulationFn, LiveFeatures, SimulationFn, is_in_place

__all__ = ["DefaultHeronEnv"]


class DefaultHeronEnv(BaseEnv):
    """A hierarchical multi-agent environment driven by a simulation function.

    Build it with :class:`~heron.envs.builder.EnvBuilder` or
    :func:`~heron.envs.builder.build_env`.

    Args:
        agents: all agents, hierarchy already linked, ordered field agents,
            coordinators, system agent.
        exposed_ids: ids of the agents that choose actions, in order.
        simulation: the simulation function (see :mod:`heron.envs.simulation`
            for its two forms), or ``None`` when ``apply_action`` is the only dynamics.
        max_steps: episode length; the episode is truncated after it.
        env_id: a name for logs and error messages.
    """

    def __init__(
        self,
        agents: Sequence[Agent],
        exposed_ids: Sequence[str],
        simulation: SimulationFn | InPlaceSimulationFn | None = None,
        max_steps: int = 50,
        env_id: str = "heron_env",
    ) -> None:
        self._simulation = simulation
        self._in_place = is_in_place(simulation)
        super().__init__(agents, exposed_ids, max_steps, env_id)
        self._live_features: LiveFeatures = MappingProxyType(
            {aid: MappingProxyType(features) for aid, features in self._features_by_agent}
        )

    @property
    def simulation(self) -> SimulationFn | InPlaceSimulationFn | None:
        """The simulation function given at construction."""
        return self._simulation

    def run_simulation(self, env_state: AgentStates) -> AgentStates:
        """The simulation function's next state (the dict contract)."""
        return self._simulation(env_state)  # type: ignore[misc,return-value]

    def _advance_plant(self) -> None:
        if self._in_place:
            result = self._simulation(self._live_features)  # type: ignore[misc]
            if result is not None:
                raise SimulationError(
                    f"env {self.env_id!r}: an in_place_simulation sets the features and returns None, "
                    f"got {type(result).__name__}"
                )
        elif self._simulation is not None:
            super()._advance_plant()
