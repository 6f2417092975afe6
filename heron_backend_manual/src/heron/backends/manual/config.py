"""The manual backend's hyper-parameters (``ExperimentSpec.hyperparams``) and their defaults."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from heron.core.errors import ConfigError
from heron.portable.mlp import ACTIVATIONS
from heron.training.algorithms import Critic, PolicySharing, algorithm_definition, resolve_sharing
from heron.utils.validation import check_number

__all__ = ["ManualConfig"]

_POSITIVE_INT: dict[str, Any] = {"minimum": 1, "integer": True}
_POSITIVE: dict[str, Any] = {"minimum": 0, "exclusive_minimum": True}
_NUMBERS: dict[str, dict[str, Any]] = {  # numeric setting -> check_number bounds
    "num_envs": _POSITIVE_INT,
    "critic_steps": _POSITIVE_INT,
    "gamma": {"minimum": 0, "maximum": 1},
    **dict.fromkeys(("lr", "critic_lr", "noise_start", "noise_end", "max_grad_norm"), _POSITIVE),
}


@dataclass(frozen=True)
class ManualConfig:
    """Settings of the numpy REINFORCE trainer.

    The defaults are tuned so that the default ``heron train`` (300 episodes of
    the two-room thermostat per algorithm) beats the proportional reference
    controller in a few seconds.

    Attributes:
        num_envs: env copies stepped in lock-step; one gradient step per batch of
            ``num_envs`` episodes.
        hidden_sizes: widths of the hidden layers of actor and critic.
        activation: hidden activation (``"tanh"``, ``"relu"`` or ``"identity"``).
        gamma: discount of the returns.
        lr: Adam step size of the actor.
        critic_lr: Adam step size of the critic.
        critic_steps: gradient steps of the critic per batch.
        noise_start, noise_end: standard deviation of the Gaussian exploration noise
            (in units of the half action range), decayed linearly from start to
            end over the training budget (``stop``).
        max_grad_norm: gradients are rescaled to at most this global norm.
        normalize_obs: normalise observations (and critic inputs) with running
            mean and standard deviation; the actor's statistics are saved with it.
        normalize_advantages: standardise advantages per batch and policy.
        centralized_critic: the critic sees the env's full state (``env.state()``)
            instead of the agent's observation; ``None`` follows the algorithm's
            definition (:mod:`heron.training.algorithms`): on for ``mappo``, off for
            ``ippo`` (where it may not be switched on).
        agent_id_input: a shared ``mappo`` actor also gets the agent's one-hot id (among the agents of its kind).
        policy_sharing: which agents share a policy (:class:`heron.training.algorithms.PolicySharing`);
            ``None`` follows the algorithm: ``"per_kind"`` for ``mappo``, which may instead share ``"all"``:
            every acting agent acts with one policy and one centralized critic (on ``env.state()`` and the
            agent's index among all acting agents); each kind (agent class) keeps its own input and output
            layers around the shared hidden layers, so that kinds whose spaces differ can share (with several
            kinds ``hidden_sizes`` needs at least 2 entries).
    """

    num_envs: int = 4
    hidden_sizes: tuple[int, ...] = (32, 32)
    activation: str = "tanh"
    gamma: float = 0.9
    lr: float = 0.01
    critic_lr: float = 0.01
    critic_steps: int = 2
    noise_start: float = 0.5
    noise_end: float = 0.05
    max_grad_norm: float = 1.0
    normalize_obs: bool = True
    normalize_advantages: bool = True
    centralized_critic: bool | None = None
    agent_id_input: bool = False
    policy_sharing: str | None = None

    def __post_init__(self) -> None:
        for name, bounds in _NUMBERS.items():
            object.__setattr__(self, name, check_number(getattr(self, name), f"hyperparams.{name}", **bounds))
        sizes = self.hidden_sizes
        if isinstance(sizes, (str, bytes)) or not isinstance(sizes, (list, tuple)):
            raise ConfigError(f"hyperparams.hidden_sizes must be a list of positive integers, got {sizes!r}")
        entries = (check_number(size, "hyperparams.hidden_sizes entry", **_POSITIVE_INT) for size in sizes)
        object.__setattr__(self, "hidden_sizes", tuple(entries))
        if self.activation not in ACTIVATIONS:
            raise ConfigError(
                f"hyperparams.activation {self.activation!r} is unknown; expected one of {sorted(ACTIVATIONS)}"
            )
        for name in ("normalize_obs", "normalize_advantages", "agent_id_input"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"hyperparams.{name} must be true or false, got {getattr(self, name)!r}")
        if self.centralized_critic is not None and not isinstance(self.centralized_critic, bool):
            raise ConfigError(f"hyperparams.centralized_critic must be true, false or null, got "
                              f"{self.centralized_critic!r}")
        if self.policy_sharing is not None and not isinstance(self.policy_sharing, str):
            raise ConfigError(f"hyperparams.policy_sharing must be a string or null, got {self.policy_sharing!r}")

    @classmethod
    def from_hyperparams(cls, hyperparams: Mapping[str, Any], algorithm: str) -> ManualConfig:
        """Validate ``hyperparams`` for ``algorithm`` and fill in the defaults.

        ``policy_sharing`` becomes the sharing the algorithm trains with
        (:func:`heron.training.algorithms.resolve_sharing`); whether the env's agents can share is checked when
        the trainer is built.

        Raises:
            ConfigError: an unknown key (the message lists the known ones), a bad
                value, or a setting the algorithm does not have.
        """
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(hyperparams) - set(known))
        if unknown:
            raise ConfigError(f"manual backend: unknown hyperparams {unknown}; known hyperparams are {known}")
        config = cls(**hyperparams)
        definition = algorithm_definition(algorithm)
        if definition.critic is Critic.OWN_OBSERVATION and config.centralized_critic:
            raise ConfigError("hyperparams.centralized_critic applies to mappo only; ippo's critics are local")
        if definition.sharing is PolicySharing.PER_AGENT and config.agent_id_input:
            raise ConfigError("hyperparams.agent_id_input applies to mappo only; ippo's policies are per agent")
        try:
            sharing = resolve_sharing(algorithm, config.policy_sharing, "manual")
        except ConfigError as exc:
            raise ConfigError(f"hyperparams.policy_sharing={config.policy_sharing!r}: {exc}") from exc
        config = dataclasses.replace(config, policy_sharing=sharing.value)
        if config.policy_sharing == PolicySharing.ALL.value and config.centralized_critic is False:
            raise ConfigError("hyperparams.policy_sharing 'all' trains one centralized critic for every agent; "
                              "it cannot be combined with centralized_critic=false")
        if config.centralized_critic is None:
            config = dataclasses.replace(config, centralized_critic=definition.critic is Critic.GLOBAL_STATE)
        return config

    def check_shared_layers(self, kinds: Sequence[str]) -> None:
        """Check that a policy acting for the agent kinds ``kinds`` has hidden layers they can share.

        Raises:
            ConfigError: several kinds and fewer than 2 hidden layers.
        """
        if len(kinds) > 1 and len(self.hidden_sizes) < 2:
            raise ConfigError(
                f"hyperparams.hidden_sizes must have at least 2 entries with policy_sharing 'all' and several "
                f"kinds of agents ({', '.join(kinds)}): each kind keeps its own first and last layer around the "
                f"shared ones; got {list(self.hidden_sizes)}"
            )

    def to_dict(self) -> dict[str, Any]:
        """The settings as a JSON-friendly dict."""
        data = dataclasses.asdict(self)
        data["hidden_sizes"] = list(self.hidden_sizes)
        return data

