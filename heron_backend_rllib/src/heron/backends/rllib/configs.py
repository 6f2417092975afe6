"""Ready ``PPOConfig`` s for IPPO and MAPPO on a HERON env, starting from the MAPPO paper's recipe.

Example::

    from heron.backends.rllib import mappo_config
    from heron.demo_envs.thermostat import thermostat_config

    algo = mappo_config(thermostat_config(num_rooms=2), seed=0).build_algo()
    for _ in range(20):
        algo.train()

Which one to use:

* **MAPPO** (:func:`mappo_config`): one module shared by the agents of each kind (one agent class),
  named after the kind, whose critic reads the agent-specific global state (``env.state()``, the agent's
  observation and its index within its kind) while the actor reads the agent's own observation. Use it
  when agents of a kind are alike and cooperate: sharing multiplies the data per parameter, and the
  centralized critic sees what the others do. Deployed actors still need only local observations.
  ``policy_sharing="all"`` shares one module (:data:`~heron.training.algorithms.SHARED_GROUP`) among every
  acting agent instead; this backend allows it only when all acting agents have the same spaces.
* **IPPO** (:func:`ippo_config`): one module per agent, each critic on the agent's own observation.
  Use it for agents with different roles, or when the global state is large or unavailable.

Both follow HERON's definitions (:func:`heron.training.algorithms.sharing_groups`): one module per group.

Both use :class:`~heron.backends.rllib.module.HeronPPOTorchRLModule` (observation and value
normalisation) and :class:`~heron.backends.rllib.learner.HeronPPOTorchLearner` (Huber value loss),
:class:`~heron.adaptors.rllib_runner.HeronEnvRunner` as the env runner, and the hyper-parameters in
:data:`RECIPE` instead of RLlib's generic PPO defaults (learning
rate 5e-5, 30 epochs, clip 0.3, lambda 1.0, KL loss on).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
from ray.rllib.core.rl_module.rl_module import RLModuleSpec

from heron.adaptors._rllib_validation import check_spaces_shareable
from heron.adaptors.rllib import RLlibBasedHeronEnv
from heron.adaptors.rllib_runner import HeronEnvRunner
from heron.backends.rllib.learner import DEFAULT_HUBER_DELTA, DEFAULT_TORCH_THREADS, HeronPPOTorchLearner
from heron.backends.rllib.module import DEFAULT_MODEL_CONFIG, HeronPPOTorchRLModule, check_model_config
from heron.core.errors import ConfigError
from heron.envs.base import BaseEnv
from heron.training.algorithms import PolicySharing, agent_kinds, resolve_sharing, sharing_groups
from heron.utils.validation import check_number

__all__ = [
    "HYPERPARAMETERS",
    "LEARNER_SETTINGS",
    "RECIPE",
    "RUNNER_SETTINGS",
    "SHARING_SETTINGS",
    "ippo_config",
    "mappo_config",
]

RECIPE: dict[str, Any] = {
    "lr": 1e-3,
    "gamma": 0.9,
    "lambda_": 0.95,
    "clip_param": 0.2,
    "num_epochs": 10,
    "train_batch_size": 500,
    "minibatch_size": 250,
    "entropy_coeff": 0.01,
    "vf_loss_coeff": 1.0,
    "grad_clip": 10.0,
    "use_kl_loss": False,
    "vf_clip_param": float("inf"),
}
"""PPO settings after the MAPPO paper (Yu et al. 2022): clip 0.2, GAE lambda 0.95, 10 epochs, entropy bonus 0.01,
gradient clipping 10, no KL term, no value-loss clipping (the Huber loss bounds it). Where the paper trains on
large batches in one minibatch, HERON's tasks are short: batches of 500 env steps (10 thermostat episodes) in
minibatches of 250 samples and a learning rate of 1e-3 learn the two-room task within 300 episodes. Their rewards
are immediate, so the discount is 0.9 (as the manual backend's): with 0.99 the hierarchical thermostat's building
had not learned in 300 episodes (-352 against the reference's -74; with 0.9: -26), and every built-in env trains
better with it. ``minibatch_size`` counts samples per module, as in RLlib (a shared module gets one sample per
agent and env step); ``None`` makes the whole batch one minibatch."""

RUNNER_SETTINGS: dict[str, Any] = {"num_env_runners": 0, "num_envs_per_env_runner": 1}
"""Env runner settings (remote env runners, vectorised envs per runner); 0 samples in the driver process."""

SHARING_SETTINGS: dict[str, Any] = {"policy_sharing": None}
"""Which agents share a module (:func:`heron.training.algorithms.resolve_sharing`): ``None`` is the algorithm's
own (one module per agent for ippo, per agent kind for mappo); mappo may also take ``"all"`` (one module for
every acting agent, which this backend builds only when they all have the same spaces)."""

LEARNER_SETTINGS: dict[str, Any] = {"vf_huber_delta": DEFAULT_HUBER_DELTA, "torch_threads": DEFAULT_TORCH_THREADS}
"""The learner's own settings (:mod:`heron.backends.rllib.learner`): the Huber loss's delta, and the PyTorch
threads of the learner's process, set when the learner is built (1: small networks train fastest on one)."""

HYPERPARAMETERS: tuple[str, ...] = (
    *RECIPE,
    *DEFAULT_MODEL_CONFIG,
    *RUNNER_SETTINGS,
    *LEARNER_SETTINGS,
    *SHARING_SETTINGS,
)
"""Every key ``hyperparams`` may hold (``--set KEY=VALUE`` on the command line)."""


_COUNTS: dict[str, int] = {  # the settings HERON reads as integers -> their minimum (minibatch_size may be None)
    "train_batch_size": 1,
    "minibatch_size": 1,
    "num_epochs": 1,
    "num_env_runners": 0,
    "num_envs_per_env_runner": 1,
    "torch_threads": 1,
}
_POSITIVE = {"minimum": 0, "exclusive_minimum": True}
_RANGES: dict[str, dict[str, Any]] = {  # the float settings -> their check_number bounds
    "lr": _POSITIVE,
    "gamma": {"minimum": 0, "maximum": 1},
    "lambda_": {"minimum": 0, "maximum": 1},
    "clip_param": _POSITIVE,
    "entropy_coeff": {"minimum": 0},
    "vf_loss_coeff": {"minimum": 0},
    "grad_clip": _POSITIVE,
    "vf_clip_param": _POSITIVE,
    "vf_huber_delta": _POSITIVE,
}
_SCHEDULES = ("lr", "entropy_coeff")
"""Settings that may also be RLlib schedules, ``[[timestep, value], ...]`` (RLlib checks them)."""
_UNBOUNDED = {"grad_clip": None, "vf_clip_param": float("inf")}
"""Settings whose "off" value is accepted as such: no gradient clipping, no value-loss clipping."""


# Not in __all__ but keep their names: RLlib checkpoints pickle the config, and with it the policy_mapping_fn, by
# reference (renaming them would break loading saved checkpoints).
@dataclass(frozen=True, eq=False)
class GroupMapping:
    """A picklable ``policy_mapping_fn``: each agent to the module of its group (MAPPO).

    Attributes:
        modules: ``{agent_id: module_id}``.
    """

    modules: Mapping[str, str]

    def __call__(self, agent_id: str, *args: Any, **kwargs: Any) -> str:
        """The module of ``agent_id`` (RLlib calls it as ``(agent_id, episode)``)."""
        return self.modules[agent_id]


def shared_policy_mapping(agent_id: str, *args: Any, **kwargs: Any) -> str:
    """Map every agent to ``"shared_policy"``: MAPPO's one module before it had one per kind, kept so that the
    pickled checkpoints of those runs still load (``heron evaluate --allow-pickle``)."""
    return "shared_policy"


def own_policy_mapping(agent_id: str, *args: Any, **kwargs: Any) -> str:
    """Map every agent to the module of the same name (IPPO)."""
    return agent_id


def _settings(hyperparams: Mapping[str, Any] | None, algorithm: str) -> dict[str, Any]:
    given = dict(hyperparams or {})
    unknown = sorted(set(given) - set(HYPERPARAMETERS))
    if unknown:
        raise ConfigError(f"unknown RLlib hyper-parameter(s) {unknown}; allowed: {sorted(HYPERPARAMETERS)}")
    settings = {**RECIPE, **DEFAULT_MODEL_CONFIG, **RUNNER_SETTINGS, **LEARNER_SETTINGS, **SHARING_SETTINGS, **given}
    try:
        settings["policy_sharing"] = resolve_sharing(algorithm, settings["policy_sharing"], "rllib")
    except ConfigError as exc:
        raise ConfigError(f"hyperparams.policy_sharing={settings['policy_sharing']!r}: {exc}") from exc
    for key, minimum in _COUNTS.items():
        if key == "minibatch_size" and settings[key] is None:
            continue  # the whole batch is one minibatch
        settings[key] = check_number(settings[key], f"hyperparams.{key}", minimum=minimum, integer=True)
    for key, bounds in _RANGES.items():
        value = settings[key]
        if (key in _SCHEDULES and isinstance(value, list)) or (key in _UNBOUNDED and value == _UNBOUNDED[key]):
            continue
        settings[key] = check_number(value, f"hyperparams.{key}", **bounds)
    if settings["minibatch_size"] is not None and settings["minibatch_size"] > settings["train_batch_size"]:
        raise ConfigError(
            f"hyperparams.minibatch_size ({settings['minibatch_size']}) must be at most hyperparams.train_batch_size "
            f"({settings['train_batch_size']}): RLlib splits each batch into minibatches"
        )
    if not isinstance(settings["use_kl_loss"], bool):
        raise ConfigError(f"hyperparams.use_kl_loss must be true or false, got {settings['use_kl_loss']!r}")
    return settings


def _base_config(
    env_config: Mapping[str, Any], settings: Mapping[str, Any], seed: int, samples_per_env_step: int
) -> PPOConfig:
    """The common part; ``samples_per_env_step`` is how many agents feed the largest module."""
    seed = check_number(seed, "seed", minimum=0, integer=True)
    training = {key: settings[key] for key in RECIPE if key != "minibatch_size"}
    batch, minibatch = settings["train_batch_size"], settings["minibatch_size"]
    config = (
        PPOConfig()
        .environment(env=RLlibBasedHeronEnv, env_config=dict(env_config))
        .env_runners(
            env_runner_cls=HeronEnvRunner,
            num_env_runners=settings["num_env_runners"],
            num_envs_per_env_runner=settings["num_envs_per_env_runner"],
        )
        .training(
            **training,
            minibatch_size=batch * samples_per_env_step if minibatch is None else minibatch,
        )
        .learners(
            learner_class=HeronPPOTorchLearner,
            learner_config_dict={key: settings[key] for key in LEARNER_SETTINGS},
        )
        .debugging(seed=seed, log_sys_usage=False)  # HERON reads no system metrics (and gputil is absent)
    )
    return config


def _model_config(settings: Mapping[str, Any]) -> dict[str, Any]:
    return check_model_config({key: settings[key] for key in DEFAULT_MODEL_CONFIG})


def mappo_config(
    env_config: Mapping[str, Any], *, seed: int = 0, hyperparams: Mapping[str, Any] | None = None
) -> PPOConfig:
    """MAPPO: one :class:`HeronPPOTorchRLModule` per group of sharing agents, each with a centralized critic.

    The groups are :func:`~heron.training.algorithms.sharing_groups` of the env under ``policy_sharing``: one
    module per agent kind, named after the kind (default), or ``"all"``: one module
    :data:`~heron.training.algorithms.SHARED_GROUP` for every acting agent.

    Args:
        env_config: HERON's flat env_config (``global_state`` and ``agent_groups`` are set here).
        seed: seeds RLlib (env runners, env resets, torch).
        hyperparams: overrides of :data:`RECIPE`, the model config, runner settings and :data:`SHARING_SETTINGS`
            (:data:`HYPERPARAMETERS`).

    Raises:
        ConfigError: for a bad env_config, unknown hyper-parameters or ``policy_sharing``, agents of one kind whose
            spaces differ, or ``policy_sharing="all"`` on agents whose spaces differ.
    """
    settings = _settings(hyperparams, "mappo")
    sharing = settings["policy_sharing"]
    heron_env = RLlibBasedHeronEnv(env_config).heron_env
    groups = sharing_groups(heron_env, "mappo", "rllib", sharing=sharing)
    if sharing is PolicySharing.ALL:
        _check_kinds_alike(heron_env)
    env_config = {**env_config, "global_state": True, "agent_groups": groups}
    check_spaces_shareable(RLlibBasedHeronEnv(env_config), groups)
    mapping = GroupMapping({aid: group for group, members in groups.items() for aid in members})
    largest = max(len(members) for members in groups.values())
    config = _base_config(env_config, settings, seed, largest).multi_agent(
        policies=set(groups), policy_mapping_fn=mapping
    )
    spec = RLModuleSpec(module_class=HeronPPOTorchRLModule, model_config=_model_config(settings))
    return config.rl_module(rl_module_spec=MultiRLModuleSpec(rl_module_specs=dict.fromkeys(groups, spec)))


def _check_kinds_alike(env: BaseEnv) -> None:
    """A ConfigError when the agent kinds' spaces differ: this backend's modules have one input and output layer."""
    kinds = agent_kinds(env, backend="rllib")
    spaces = {kind: (env.observation_space(aids[0]), env.action_space(aids[0])) for kind, aids in kinds.items()}
    first = next(iter(spaces.values()))
    if any(pair != first for pair in spaces.values()):
        details = "; ".join(f"{kind} observes {obs} and acts in {act}" for kind, (obs, act) in spaces.items())
        raise ConfigError(
            f"backend 'rllib': hyperparams.policy_sharing='all' needs one module for every acting agent, but this "
            f"backend cannot share one module among agents whose spaces differ ({details}); use "
            "policy_sharing='per_kind' (one module per kind, the default) or ippo"
        )


def ippo_config(
    env_config: Mapping[str, Any], *, seed: int = 0, hyperparams: Mapping[str, Any] | None = None
) -> PPOConfig:
    """IPPO: one :class:`HeronPPOTorchRLModule` per agent, named after it, each critic on its own observation.

    Arguments and errors as :func:`mappo_config` (agents may have different spaces; ``policy_sharing`` may only
    be ``"per_agent"``).
    """
    settings = _settings(hyperparams, "ippo")
    if env_config.get("global_state"):
        raise ConfigError("IPPO critics read the agent's own observation: remove 'global_state' from env_config")
    agent_ids = RLlibBasedHeronEnv(env_config).possible_agents
    config = _base_config(env_config, settings, seed, 1).multi_agent(
        policies=set(agent_ids), policy_mapping_fn=own_policy_mapping
    )
    spec = RLModuleSpec(module_class=HeronPPOTorchRLModule, model_config=_model_config(settings))
    return config.rl_module(rl_module_spec=MultiRLModuleSpec(rl_module_specs=dict.fromkeys(agent_ids, spec)))
