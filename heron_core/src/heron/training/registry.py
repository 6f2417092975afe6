"""Named environments: the built-in ones, those plugins add, and those registered at run time.

Example::

    from heron.training import make_env, register_env, EnvSpec
    env = make_env("thermostat", num_rooms=10)
    register_env(EnvSpec("my_grid", make_my_grid_config, "a microgrid"))
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from heron.core.errors import ConfigError
from heron.core.policies import Policy
from heron.envs.builder import build_env
from heron.envs.simple import DefaultHeronEnv
from heron.evaluation.episodes import evaluate_policies
from heron.training.plugins import get_plugin_manager
from heron.utils.hints import did_you_mean

if TYPE_CHECKING:
    from heron.training.plugins import PluginRecord

__all__ = ["EnvArgument", "EnvSpec", "env_specs", "make_env", "make_env_config", "reference_return", "register_env"]


class EnvArgument(NamedTuple):
    """One keyword argument of an environment's ``make_config``."""

    name: str
    """The parameter name (``**name`` when ``make_config`` takes any keyword argument)."""
    default: Any
    """Its default (``None`` when required)."""
    required: bool
    help: str
    """Its description in the ``Args:`` section of ``make_config``'s docstring (``""`` when undocumented)."""

    def __str__(self) -> str:
        return self.name if self.required or self.name.startswith("**") else f"{self.name}={self.default!r}"


@dataclass(frozen=True)
class EnvSpec:
    """A named environment.

    Attributes:
        name: the name ``make_env`` and ``--env`` take.
        make_config: returns the flat env_config; keyword arguments parameterise it. Its keyword parameters
            and their defaults are the env's arguments (``heron envs -v`` lists them), described by the
            Google-style ``Args:`` section of its docstring.
        description: one line for ``heron envs``.
        reference: builds a hand-written policy (one per acting agent) whose
            return ``heron train`` draws as a baseline on the learning curves.
    """

    name: str
    make_config: Callable[..., dict[str, Any]]
    description: str = ""
    reference: Callable[[], Policy] | None = None

    def arguments(self) -> dict[str, EnvArgument]:
        """``{name: EnvArgument}`` of ``make_config``'s keyword parameters, in order (empty if it has no signature)."""
        signature = _signature(self.make_config)
        if signature is None:
            return {}
        documented = _documented_arguments(self.make_config)
        arguments = {}
        for parameter in signature.parameters.values():
            if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.VAR_POSITIONAL):
                continue
            name = f"**{parameter.name}" if parameter.kind is parameter.VAR_KEYWORD else parameter.name
            required = parameter.default is parameter.empty and parameter.kind is not parameter.VAR_KEYWORD
            default = None if parameter.default is parameter.empty else parameter.default
            arguments[name] = EnvArgument(name, default, required, documented.get(parameter.name, ""))
        return arguments


def _signature(function: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(function)
    except (TypeError, ValueError):  # some builtins and C functions have none
        return None


def _documented_arguments(function: Callable[..., Any]) -> dict[str, str]:
    """``{name: description}`` from the Google-style ``Args:`` section of ``function``'s docstring."""
    documented: dict[str, str] = {}
    inside, indent, current = False, None, ""
    for line in (inspect.getdoc(function) or "").splitlines():
        text = line.strip()
        if not inside:
            inside = text == "Args:"
            continue
        depth = len(line) - len(line.lstrip())
        if not text or (indent is not None and depth < indent):
            break  # the section ends at a blank line or the next header
        text = text.replace("``", "")  # reST literals read as plain text on a terminal
        if indent is None or depth == indent:
            indent = depth
            key, _, description = text.partition(":")
            current = key.split("(")[0].strip().lstrip("*")
            documented[current] = description.strip()
        else:
            documented[current] += " " + text
    return documented


_runtime: dict[str, EnvSpec] = {}


def register_env(spec: EnvSpec) -> None:
    """Register ``spec`` for this process (a name already known is an error)."""
    if spec.name in env_specs():
        raise ConfigError(f"an environment named {spec.name!r} is already registered")
    _runtime[spec.name] = spec


def env_entries() -> dict[str, tuple[EnvSpec, PluginRecord | None]]:
    """Every known environment by name with the plugin providing it (``None``: registered at run time)."""
    entries: dict[str, tuple[EnvSpec, PluginRecord | None]] = dict(
        get_plugin_manager().collect_named("heron_envs", EnvSpec, "environment")
    )
    entries.update((name, (spec, None)) for name, spec in _runtime.items())
    return entries


def env_specs() -> dict[str, EnvSpec]:
    """Every known environment by name: plugins' (merged as the ``heron_envs`` hook documents), then run-time ones."""
    return {name: spec for name, (spec, _plugin) in env_entries().items()}


def make_env_config(name: str, **kwargs: Any) -> dict[str, Any]:
    """The flat env_config of the environment called ``name``.

    Raises:
        ConfigError: an unknown environment, an argument it does not take or a required one missing; the
            message names the closest valid names and the env's arguments.
    """
    specs = env_specs()
    if name not in specs:
        hint = did_you_mean(name, specs)
        raise ConfigError(f"unknown environment {name!r}{hint}; known environments: {sorted(specs)}")
    spec = specs[name]
    signature = _signature(spec.make_config)
    if signature is not None:
        try:
            signature.bind(**kwargs)
        except TypeError as exc:  # only the arguments are checked here: a TypeError inside make_config stays itself
            raise ConfigError(_argument_problem(name, kwargs, spec.arguments(), exc)) from None
    return spec.make_config(**kwargs)


def _argument_problem(env: str, given: Mapping[str, Any], arguments: Mapping[str, EnvArgument], exc: TypeError) -> str:
    """Why ``given`` does not fit the env's ``arguments``, in one line listing them."""
    accepted = [argument.name for argument in arguments.values()]
    listed = ", ".join(map(str, arguments.values())) or "none"
    takes_any = any(argument.startswith("**") for argument in accepted)
    unknown = [] if takes_any else [key for key in given if key not in arguments]
    missing = [argument.name for argument in arguments.values() if argument.required and argument.name not in given]
    if unknown:
        problems = [f"no argument {key!r}{did_you_mean(key, accepted)}" for key in unknown]
        return f"environment {env!r} has {'; '.join(problems)}; its arguments are: {listed}"
    if missing:
        return f"environment {env!r} needs the argument(s) {missing}; its arguments are: {listed}"
    return f"environment {env!r} does not take the arguments {dict(given)}: {exc}; its arguments are: {listed}"


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
