"""Named environments: the built-in ones, those plugins add, and those registered at run time.

Example::

    from heron.training import make_env, register_env, EnvSpec
    env = make_env("thermostat", num_rooms=10)
    register_env(EnvSpec("my_grid", make_my_grid_config, "a microgrid"))
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from heron.core.errors import ConfigError
from heron.core.policies import Policy
from heron.envs.builder import build_env
from heron.envs.simple import DefaultHeronEnv
from heron.evaluation.episodes import evaluate_policies
from heron.training.plugins import get_plugin_manager

__all__ = ["EnvSpec", "env_specs", "make_env", "make_env_config", "reference_return", "register_env"]


@dataclass(frozen=True)
class EnvSpec:
    """A named environment.

    Attributes:
        name: the name ``make_env`` and ``--env`` take.
        make_config: returns the flat env_config; keyword arguments parameterise it.
        description: one line for ``heron envs``.
        reference: builds a hand-written policy (one per acting agent) whose
            return ``heron train`` draws as a baseline on the learning curves.
    """

    name: str
    make_config: Callable[..., dict[str, Any]]
    description: str = ""
    reference: Callable[[], Policy] | None = None


_runtime: dict[str, EnvSpec] = {}


def register_env(spec: EnvSpec) -> None:
    """Register ``spec`` for this process (a name already known is an error)."""
    if spec.name in env_specs():
        raise ConfigError(f"an environment named {spec.name!r} is already registered")
    _runtime[spec.name] = spec


def env_specs() -> dict[str, EnvSpec]:
    """Every known environment by name: plugins' (merged as the ``heron_envs`` hook documents), then run-time ones."""
    found = get_plugin_manager().collect_named("heron_envs", EnvSpec, "environment")
    specs = {name: spec for name, (spec, _plugin) in found.items()}
    specs.update(_runtime)
    return specs


def make_env_config(name: str, **kwargs: Any) -> dict[str, Any]:
    """The flat env_config of the environment called ``name``."""
    specs = env_specs()
    if name not in specs:
        raise ConfigError(f"unknown environment {name!r}; known environments: {sorted(specs)}")
    make_config = specs[name].make_config
    try:
        inspect.signature(make_config).bind(**kwargs)
    except TypeError as exc:  # only the arguments are checked here: a TypeError inside make_config stays itself
        accepted = list(inspect.signature(make_config).parameters)
        raise ConfigError(
            f"environment {name!r} does not take arguments {kwargs}: {exc}; its arguments are {accepted}"
        ) from None
    return make_config(**kwargs)


def make_env(name: str, **kwargs: Any) -> DefaultHeronEnv:
    """Build the environment called ``name``."""
    return build_env(make_env_config(name, **kwargs))


def reference_return(name: str, episodes: int = 20, seed: int = 1000, **kwargs: Any) -> float | None:
    """Mean team return of the env's reference policy (``None`` when it has none)."""
    spec = env_specs().get(name)
    if spec is None or spec.reference is None:
        return None
    env = make_env(name, **kwargs)
    policies = {aid: spec.reference() for aid in env.possible_agents}
    return float(sum(evaluate_policies(env, policies, episodes, seed)) / episodes)
