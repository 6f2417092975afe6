"""Trained RLlib modules as HERON policies, with what RLlib does between module and env.

Example::

    from heron.adaptors.rllib_module_bridge import RLlibModuleBridge, policies_from_algorithm

    policy = RLlibModuleBridge.from_algorithm(algo, "room_a")    # or .from_checkpoint(path, "room_a")
    action = policy.forward(env.observe("room_a"))               # a heron Action
    policies = policies_from_algorithm(algo)                     # {agent_id: RLlibModuleBridge}

The action is deterministic: the module's ``forward_inference`` outputs go through its inference
distribution's ``to_deterministic()`` (the mean of a Gaussian, the argmax of a categorical), as in
RLlib's evaluation. Around the module the bridge applies the same steps as the algorithm's connector
pipelines:

* env-to-module: an RLlib ``MeanStdFilter`` (its current statistics, not updated by the bridge);
* module-to-env: ``NormalizeAndClipActions`` (rescaling to the ``Box`` bounds when
  ``normalize_actions`` is on, else clipping when ``clip_actions`` is on).

Any other custom connector piece is an error (:class:`~heron.core.errors.BackendError`) rather than
silently skipped. HERON's own module keeps its normalisation inside the module.
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
import tree
from ray.rllib.algorithms.algorithm_config import AlgorithmConfig
from ray.rllib.connectors.common import (
    AddObservationsFromEpisodesToBatch,
    AddStatesFromEpisodesToBatch,
    AddTimeDimToBatchAndZeroPad,
    AgentToModuleMapping,
    BatchIndividualItems,
    NumpyToTensor,
    TensorToNumpy,
)
from ray.rllib.connectors.connector_pipeline_v2 import ConnectorPipelineV2
from ray.rllib.connectors.env_to_module import EnvToModulePipeline, MeanStdFilter
from ray.rllib.connectors.module_to_env import (
    GetActions,
    ListifyDataForVectorEnv,
    ModuleToAgentUnmapping,
    ModuleToEnvPipeline,
    NormalizeAndClipActions,
    RemoveSingleTsTimeRankFromBatch,
    UnBatchToIndividualItems,
)
from ray.rllib.core import COMPONENT_ENV_TO_MODULE_CONNECTOR, COMPONENT_MODULE_TO_ENV_CONNECTOR
from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.rl_module import RLModule
from ray.rllib.utils.filter import RunningStat
from ray.rllib.utils.numpy import SMALL_NUMBER
from ray.rllib.utils.spaces.space_utils import clip_action, unsquash_action

from heron.adaptors._rllib_validation import module_for_agents
from heron.adaptors.rllib import OBS_KEY, RLlibBasedHeronEnv
from heron.core.action import Action
from heron.core.errors import BackendError, CheckpointError
from heron.core.policies import Policy, observation_vector

__all__ = [
    "ActionPostprocess",
    "ObservationFilter",
    "RLlibModuleBridge",
    "policies_from_algorithm",
    "policies_from_checkpoint",
]

_PLUMBING = (
    AddObservationsFromEpisodesToBatch,
    AddStatesFromEpisodesToBatch,
    AddTimeDimToBatchAndZeroPad,
    AgentToModuleMapping,
    BatchIndividualItems,
    NumpyToTensor,
    GetActions,
    TensorToNumpy,
    UnBatchToIndividualItems,
    ModuleToAgentUnmapping,
    RemoveSingleTsTimeRankFromBatch,
    ListifyDataForVectorEnv,
)


@dataclass(frozen=True)
class ObservationFilter:
    """RLlib's ``MeanStdFilter`` for one agent, frozen: ``clip((x - mean) / (std + 1e-6), -clip, clip)``.

    ``mean`` is zero when the filter does not de-mean, ``scale`` (``std + SMALL_NUMBER``) one when it
    does not de-std; ``clip`` is ``None`` without clipping.
    """

    mean: np.ndarray
    scale: np.ndarray
    clip: float | None

    @classmethod
    def from_connector_state(cls, state: Mapping[str, Any], agent_id: str) -> ObservationFilter:
        """From the state RLlib's ``MeanStdFilter`` connector holds for ``agent_id``."""
        stats = state["running_stats"]
        if len(stats) != 1:
            raise BackendError(
                f"agent {agent_id!r}: the MeanStdFilter holds {len(stats)} statistics (a nested observation); "
                "the bridge supports it on Box observations only"
            )
        running = RunningStat.from_state(stats[0])
        mean = np.asarray(running.mean, dtype=np.float64) if state["de_mean_to_zero"] else np.zeros(running.shape)
        if state["de_std_to_one"]:
            scale = np.asarray(running.std, dtype=np.float64) + SMALL_NUMBER
        else:
            scale = np.ones(running.shape)
        clip = state["clip_by_value"]
        return cls(mean, scale, float(clip) if clip else None)

    def __call__(self, vector: np.ndarray) -> np.ndarray:
        out = (vector.astype(np.float64) - self.mean) / self.scale
        if self.clip is not None:
            out = np.clip(out, -self.clip, self.clip)
        return out.astype(np.float32)


@dataclass(frozen=True)
class ActionPostprocess:
    """RLlib's ``NormalizeAndClipActions`` settings (defaults: RLlib's)."""

    normalize_actions: bool = True
    clip_actions: bool = False

    def __call__(self, action: Any, space: gym.Space) -> Any:
        if self.normalize_actions:
            return unsquash_action(action, space)
        if self.clip_actions:
            return clip_action(action, space)
        return action


def _connector_transforms(
    env_to_module: ConnectorPipelineV2, module_to_env: ConnectorPipelineV2, agent_id: str
) -> tuple[ObservationFilter | None, ActionPostprocess]:
    """What the two pipelines do to ``agent_id``'s observations and actions (error on unknown pieces)."""
    obs_filter = None
    for piece in env_to_module.connectors:
        if isinstance(piece, MeanStdFilter):
            if obs_filter is not None:
                raise BackendError("the env-to-module pipeline holds two MeanStdFilters; the bridge supports one")
            states = piece.get_state()
            key = agent_id if agent_id in states else None
            if key not in states:
                raise BackendError(f"the MeanStdFilter has no statistics for agent {agent_id!r}")
            obs_filter = ObservationFilter.from_connector_state(states[key], agent_id)
        elif not isinstance(piece, _PLUMBING):
            raise BackendError(
                f"the env-to-module connector {type(piece).__name__} is not supported by the bridge "
                "(supported: RLlib's default pieces and MeanStdFilter)"
            )
    post = None
    for piece in module_to_env.connectors:
        if isinstance(piece, NormalizeAndClipActions):
            post = ActionPostprocess(bool(piece.normalize_actions), bool(piece.clip_actions))
        elif not isinstance(piece, _PLUMBING):
            raise BackendError(
                f"the module-to-env connector {type(piece).__name__} is not supported by the bridge "
                "(supported: RLlib's default pieces)"
            )
    return obs_filter, post or ActionPostprocess(False, False)


class RLlibModuleBridge(Policy):
    """A trained RLModule as a HERON :class:`~heron.core.policies.Policy` (see module docs).

    Args:
        module: the RLModule (its ``observation_space`` is the agent's, as RLlib built it).
        agent_id: the agent it controls (for error messages and the action's owner).
        module_id: the module's id in the algorithm (default: ``agent_id``).
        observation_mode: the agent's observation mode (``"local"``, ``"full"`` or ``"global"``).
        action_space: the agent's action space (default: the module's).
        obs_filter: the env-to-module observation filter, if any.
        postprocess: the module-to-env action step.
    """

    def __init__(
        self,
        module: RLModule,
        *,
        agent_id: str,
        module_id: str | None = None,
        observation_mode: str = "local",
        action_space: gym.Space | None = None,
        obs_filter: ObservationFilter | None = None,
        postprocess: ActionPostprocess | None = None,
    ) -> None:
        self.module = module
        self.agent_id = agent_id
        self.module_id = module_id or agent_id
        self.observation_mode = observation_mode
        self.action_space = action_space if action_space is not None else module.action_space
        self.obs_filter = obs_filter
        self.postprocess = postprocess or ActionPostprocess()
        space = module.observation_space
        self._dict_obs = isinstance(space, gym.spaces.Dict)
        box = space[OBS_KEY] if self._dict_obs else space
        self.obs_dim = int(np.prod(box.shape))
        self.action_spec = Action.from_space(self.action_space, owner=agent_id)
        self._dist_cls = module.get_inference_action_dist_cls()
        if hasattr(module, "eval"):
            module.eval()

    # ---------------------------------------------------------- factories
    @classmethod
    def from_algorithm(cls, algo: Any, agent_id: str) -> RLlibModuleBridge:
        """The policy an algorithm currently uses for ``agent_id`` (a snapshot: later training does not change it)."""
        return policies_from_algorithm(algo, [agent_id])[agent_id]

    @classmethod
    def from_checkpoint(cls, path: str | Path, agent_id: str) -> RLlibModuleBridge:
        """The policy of ``agent_id`` in an algorithm checkpoint (``algo.save_to_path``); unpickles: trusted only."""
        return policies_from_checkpoint(path, [agent_id])[agent_id]

    # ------------------------------------------------------------- acting
    def module_input(self, vector: np.ndarray) -> dict[str, Any]:
        """The inference batch for one (filtered) observation vector."""
        obs = torch.tensor(np.asarray(vector, dtype=np.float32)[None])
        return {Columns.OBS: {OBS_KEY: obs} if self._dict_obs else obs}

    def space_action(self, obs: Any) -> Any:
        """The action RLlib would send to the env (a member of the action space)."""
        vector = observation_vector(obs, self.observation_mode, self.obs_dim, self.agent_id)
        if self.obs_filter is not None:
            vector = self.obs_filter(vector)
        with torch.no_grad():
            out = self.module.forward_inference(self.module_input(vector))
        if Columns.ACTIONS in out:
            actions = out[Columns.ACTIONS]
        else:
            dist = self._dist_cls.from_logits(out[Columns.ACTION_DIST_INPUTS]).to_deterministic()
            actions = dist.sample()
        action = tree.map_structure(lambda t: t[0].cpu().numpy(), actions)
        return self.postprocess(action, self.action_space)

    def forward(self, obs: Any) -> Action:
        """The deterministic action for ``obs`` (an Observation, an observation dict or a vector)."""
        return self.action_spec.copy().set_values(self.space_action(obs))


# ---------------------------------------------------------------- loading
def _env_of(config: Any) -> RLlibBasedHeronEnv:
    if not (isinstance(config.env, type) and issubclass(config.env, RLlibBasedHeronEnv)):
        raise BackendError(f"the algorithm's env is {config.env!r}, not RLlibBasedHeronEnv")
    return RLlibBasedHeronEnv(config.env_config)


def bridges_for(
    env: RLlibBasedHeronEnv,
    policy_mapping_fn: Any,
    modules: Mapping[str, RLModule],
    env_to_module: ConnectorPipelineV2,
    module_to_env: ConnectorPipelineV2,
    agent_ids: list[str] | None = None,
) -> dict[str, RLlibModuleBridge]:
    """Bridges for ``agent_ids`` (default: every agent of ``env``) from modules and the two connector pipelines.

    The bridges use the given objects as they are (no copies).
    """
    wanted = list(env.possible_agents if agent_ids is None else agent_ids)
    unknown = [aid for aid in wanted if aid not in env.possible_agents]
    if unknown:
        raise BackendError(f"no agent(s) {unknown} in the env; its agents are {env.possible_agents}")
    mapping = module_for_agents(policy_mapping_fn, wanted)
    bridges = {}
    for aid in wanted:
        if mapping[aid] not in modules:
            raise BackendError(f"agent {aid!r} maps to module {mapping[aid]!r}, which is not in {sorted(modules)}")
        obs_filter, post = _connector_transforms(env_to_module, module_to_env, aid)
        bridges[aid] = RLlibModuleBridge(
            modules[mapping[aid]],
            agent_id=aid,
            module_id=mapping[aid],
            observation_mode=env.heron_env.agent(aid).observation_mode,
            action_space=env.action_spaces[aid],
            obs_filter=obs_filter,
            postprocess=post,
        )
    return bridges


def policies_from_algorithm(algo: Any, agent_ids: list[str] | None = None) -> dict[str, RLlibModuleBridge]:
    """``{agent_id: RLlibModuleBridge}`` for the algorithm's current modules and connector states (copies)."""
    runner = algo.env_runner
    components = dict(runner.get_checkpointable_components())
    module_ids = set(algo.config.policies)
    modules = {mid: copy.deepcopy(algo.get_module(mid)) for mid in module_ids}
    return bridges_for(
        _env_of(algo.config),
        algo.config.policy_mapping_fn,
        modules,
        copy.deepcopy(components[COMPONENT_ENV_TO_MODULE_CONNECTOR]),
        copy.deepcopy(components[COMPONENT_MODULE_TO_ENV_CONNECTOR]),
        agent_ids,
    )


def policies_from_checkpoint(path: str | Path, agent_ids: list[str] | None = None) -> dict[str, RLlibModuleBridge]:
    """``{agent_id: RLlibModuleBridge}`` from an algorithm checkpoint, without building the algorithm.

    This unpickles RLlib's files, which runs whatever code they name: use it only on checkpoints you
    trust (:func:`heron.backends.rllib.load_policies` reads a trainer's portable export as data instead).

    Raises:
        CheckpointError: if ``path`` is not an RLlib algorithm checkpoint.
    """
    path = Path(path).resolve()  # RLlib reads checkpoints through pyarrow, which needs absolute paths
    ctor_file = path / "class_and_ctor_args.pkl"
    modules_dir = path / "learner_group" / "learner" / "rl_module"
    runner_dir = path / "env_runner"
    connectors = (runner_dir / "env_to_module_connector", runner_dir / "module_to_env_connector")
    for needed in (ctor_file, modules_dir, *connectors):
        if not needed.exists():
            raise CheckpointError(f"{path} is not an RLlib algorithm checkpoint: {needed.relative_to(path)} is missing")
    try:
        with open(ctor_file, "rb") as handle:
            args, kwargs = pickle.load(handle)["ctor_args_and_kwargs"]
        state = kwargs.get("config", args[0] if args else None)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, KeyError, TypeError,
            ValueError) as exc:
        raise CheckpointError(
            f"{ctor_file} is corrupt: expected RLlib's pickled constructor arguments ({type(exc).__name__}: {exc})"
        ) from exc
    config = state if isinstance(state, AlgorithmConfig) else AlgorithmConfig.from_state(state)
    modules = {
        child.name: RLModule.from_checkpoint(child) for child in sorted(modules_dir.iterdir()) if child.is_dir()
    }
    env_to_module = EnvToModulePipeline.from_checkpoint(connectors[0])
    module_to_env = ModuleToEnvPipeline.from_checkpoint(connectors[1])
    return bridges_for(_env_of(config), config.policy_mapping_fn, modules, env_to_module, module_to_env, agent_ids)
