"""A HERON environment as a Ray RLlib ``MultiAgentEnv`` (new API stack).

Example::

    from ray.rllib.algorithms.ppo import PPOConfig
    from heron.adaptors.rllib import RLlibBasedHeronEnv
    from heron.demo_envs.thermostat import thermostat_config

    config = (
        PPOConfig()
        .environment(env=RLlibBasedHeronEnv, env_config=thermostat_config(num_rooms=2))
        .multi_agent(policies={"shared_policy"}, policy_mapping_fn=lambda aid, *a, **kw: "shared_policy")
    )

``env_config`` is HERON's flat env_config (see :mod:`heron.envs.builder`), built with the same
builder as the core, plus the adaptor's own keys (:data:`ADAPTOR_KEYS`):

* ``"global_state"`` (default ``False``): each observation becomes the ``Dict``
  ``{"obs": <the agent's vector>, "state": env.state(), "agent_index": <the agent's position in
  its group (below)>}``: what an agent-specific centralized critic consumes. RLlib stores it with the
  observation, so the critic sees it at every step, the last (bootstrap) one included. The index is a
  ``Discrete`` entry, which observation filters such as ``MeanStdFilter`` leave as is. Actors must only
  read ``"obs"``: HERON's MAPPO module does (see :mod:`heron.backends.rllib.module`); RLlib's default
  PPO module cannot take a ``Dict`` observation.
* ``"agent_groups"`` (default ``None``: one group of every acting agent): ``{group: [agent ids]}``, the
  agents that share one module. With ``global_state``, an agent's ``"agent_index"`` is its position in
  its group, a ``Discrete(len(group))``: agents of one group get the same spaces and distinct indices.

Observations are the flat float32 vector of each agent's ``observation_mode``
(``Observation.vector_for``), actions go to the HERON env unchanged and are validated there (a wrong
shape, a NaN or an unknown agent id is an error naming the agent). Only agents the HERON env returns
an observation for appear in the observation dict: nothing is invented for agents that are done.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from ray.rllib.env.multi_agent_env import MultiAgentEnv

from heron.core.errors import ConfigError, UnknownAgentError
from heron.core.observation import Observation
from heron.envs.builder import build_env
from heron.envs.simple import DefaultHeronEnv

__all__ = ["ADAPTOR_KEYS", "AGENT_INDEX_KEY", "OBS_KEY", "STATE_KEY", "RLlibBasedHeronEnv"]

OBS_KEY = "obs"
STATE_KEY = "state"
AGENT_INDEX_KEY = "agent_index"
ADAPTOR_KEYS: dict[str, Any] = {"global_state": False, "agent_groups": None}
"""The adaptor's own env_config keys and their defaults (every other key goes to HERON's builder)."""


def _split_env_config(config: Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split an RLlib ``env_config`` into HERON's flat env_config and the adaptor's options.

    Raises:
        ConfigError: if ``config`` is missing or not a dict, or an adaptor option has the wrong type.
    """
    if config is None or not isinstance(config, Mapping):
        raise ConfigError(
            "RLlibBasedHeronEnv needs a HERON env_config dict in .environment(env_config=...), "
            f"with at least 'agents'; got {config!r}"
        )
    env_config = {key: value for key, value in config.items() if key not in ADAPTOR_KEYS}
    options = {key: config.get(key, default) for key, default in ADAPTOR_KEYS.items()}
    if not isinstance(options["global_state"], bool):
        raise ConfigError(f"env_config['global_state'] must be True or False, got {options['global_state']!r}")
    groups = options["agent_groups"]
    if groups is not None and not (
        isinstance(groups, Mapping)
        and all(isinstance(members, (list, tuple)) and members for members in groups.values())
    ):
        raise ConfigError(
            f"env_config['agent_groups'] must be a dict {{group: [agent ids]}} with non-empty lists, got {groups!r}"
        )
    return env_config, options


def _group_indices(groups: Mapping[str, Any] | None, agent_ids: list[str]) -> dict[str, tuple[int, int]]:
    """``{agent_id: (index in its group, group size)}``; every acting agent must be in exactly one group."""
    if groups is None:
        return {aid: (index, len(agent_ids)) for index, aid in enumerate(agent_ids)}
    indices: dict[str, tuple[int, int]] = {}
    for group, members in groups.items():
        for index, aid in enumerate(members):
            if aid not in agent_ids:
                raise ConfigError(f"env_config['agent_groups'][{group!r}] names {aid!r}, which is not an acting "
                                  f"agent; the acting agents are {agent_ids}")
            if aid in indices:
                raise ConfigError(f"env_config['agent_groups'] puts agent {aid!r} in more than one group")
            indices[aid] = (index, len(members))
    missing = [aid for aid in agent_ids if aid not in indices]
    if missing:
        raise ConfigError(f"env_config['agent_groups'] leaves out the acting agent(s) {missing}")
    return indices


class RLlibBasedHeronEnv(MultiAgentEnv):
    """The HERON env described by ``config`` as an RLlib ``MultiAgentEnv``.

    Args:
        config: HERON's flat env_config plus the adaptor keys (see module docs). RLlib passes an
            ``EnvContext``, which is a dict.

    Attributes:
        heron_env: the wrapped :class:`~heron.envs.simple.DefaultHeronEnv`.
        global_state: whether observations carry the agent-specific global state.
    """

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        env_config, options = _split_env_config(config)
        self.heron_env: DefaultHeronEnv = build_env(env_config)
        self.global_state: bool = options["global_state"]
        env = self.heron_env
        self.possible_agents = list(env.possible_agents)
        self.agents = []
        self._indices = _group_indices(options["agent_groups"], self.possible_agents)
        self._modes = {aid: env.agent(aid).observation_mode for aid in self.possible_agents}
        self.action_spaces = {aid: env.action_space(aid) for aid in self.possible_agents}
        self.observation_spaces = {aid: self._observation_space(aid) for aid in self.possible_agents}
        # RLlib's documented whole-env spaces: a Dict over the agents (what get_observation_space reads)
        self.observation_space = gym.spaces.Dict(self.observation_spaces)
        self.action_space = gym.spaces.Dict(self.action_spaces)
        self._agent_index = {aid: np.int64(index) for aid, (index, _) in self._indices.items()}

    def get_agent_ids(self) -> set[str]:
        """Every agent that may act (``possible_agents``), also before the first reset."""
        return set(self.possible_agents)

    def _observation_space(self, agent_id: str) -> gym.Space:
        box = self.heron_env.observation_space(agent_id)
        if not self.global_state:
            return box
        return gym.spaces.Dict({
            OBS_KEY: box,
            STATE_KEY: self.heron_env.state_space,
            AGENT_INDEX_KEY: gym.spaces.Discrete(self._indices[agent_id][1]),
        })

    # ------------------------------------------------------------ episode
    def reset(
        self, *, seed: int | None = None, options: Mapping[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        """Reset the HERON env (``seed`` seeds it) and return the first observations."""
        observations, infos = self.heron_env.reset(seed=seed, options=options)
        self.agents = list(self.heron_env.agents)
        return self._convert(observations), infos

    def step(self, action_dict: Mapping[str, Any]) -> tuple[
        dict[str, Any], dict[str, float], dict[str, bool], dict[str, bool], dict[str, dict[str, Any]]
    ]:
        """Step the HERON env with the actions of the agents that observed last step."""
        observations, rewards, terminated, truncated, infos = self.heron_env.step(action_dict)
        self.agents = list(self.heron_env.agents)
        return self._convert(observations), rewards, terminated, truncated, infos

    def close(self) -> None:
        """Close the HERON env."""
        self.heron_env.close()

    # ------------------------------------------------------------ helpers
    def _convert(self, observations: Mapping[str, Observation]) -> dict[str, Any]:
        modes = self._modes
        if not self.global_state:
            return {aid: obs.vector_for(modes[aid]) for aid, obs in observations.items()}
        state = self.heron_env.state()
        return {aid: self.observation_from(aid, obs.vector_for(modes[aid]), state) for aid, obs in observations.items()}

    def observation_from(self, agent_id: str, vector: np.ndarray, state: np.ndarray | None = None) -> Any:
        """The observation this env returns for ``agent_id`` given its vector (and the global state when used)."""
        if not self.global_state:
            return vector
        if state is None:
            raise ConfigError(f"agent {agent_id!r}: this env's observations carry the global state; pass it")
        if agent_id not in self._agent_index:
            raise UnknownAgentError(f"no acting agent {agent_id!r}; the acting agents are {self.possible_agents}")
        return {OBS_KEY: vector, STATE_KEY: state, AGENT_INDEX_KEY: self._agent_index[agent_id]}

    def current_observation(self, agent_id: str) -> Any:
        """What this env would return for ``agent_id`` now (from the HERON env's current state)."""
        return self._convert({agent_id: self.heron_env.observe(agent_id)})[agent_id]
