"""Checks that turn bad RLlib setups of a HERON env into clear errors before Ray starts sampling."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from ray.rllib.env.multi_agent_episode import MultiAgentEpisode

from heron.adaptors.rllib import RLlibBasedHeronEnv
from heron.core.errors import ConfigError


def module_for_agents(policy_mapping_fn: Callable[..., Any], agent_ids: Sequence[str]) -> dict[str, str]:
    """``{agent_id: module_id}`` as RLlib computes it (the function gets ``(agent_id, episode)``)."""
    episode = MultiAgentEpisode()
    mapping = {}
    for aid in agent_ids:
        try:
            mapping[aid] = policy_mapping_fn(aid, episode)
        except Exception as exc:
            raise ConfigError(
                f"policy_mapping_fn failed for agent {aid!r}: {type(exc).__name__}: {exc} "
                "(RLlib calls it positionally as (agent_id, episode): write `lambda aid, *args, **kwargs: ...`)"
            ) from exc
    return mapping


def check_policy_mapping(
    policy_mapping_fn: Callable[..., Any], module_ids: Collection[str], agent_ids: Sequence[str]
) -> dict[str, str]:
    """Check that ``policy_mapping_fn`` maps every agent to a module that exists; return the mapping.

    Raises:
        ConfigError: naming the agent and the module it was mapped to.
    """
    mapping = module_for_agents(policy_mapping_fn, agent_ids)
    for aid, mid in mapping.items():
        if mid not in module_ids:
            raise ConfigError(
                f"policy_mapping_fn maps agent {aid!r} to module {mid!r}, which is not among the configured "
                f"modules {sorted(module_ids)} (.multi_agent(policies=...))"
            )
    return mapping


def check_spaces_shareable(env: RLlibBasedHeronEnv, groups: Mapping[str, Sequence[str]]) -> None:
    """Check that the agents of each group have the same observation and action spaces (one module per group).

    Raises:
        ConfigError: naming the group and the first agent whose spaces differ from the group's first agent's.
    """
    for group, (first, *others) in groups.items():
        for aid in others:
            for kind, spaces in (("observation", env.observation_spaces), ("action", env.action_spaces)):
                if spaces[aid] != spaces[first]:
                    raise ConfigError(
                        f"agents {first!r} and {aid!r} of group {group!r} have different {kind} spaces "
                        f"({spaces[first]} vs {spaces[aid]}), so they cannot share one module: use IPPO "
                        "(one module per agent)"
                    )
