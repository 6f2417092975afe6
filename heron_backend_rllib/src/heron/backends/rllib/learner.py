"""PPO's torch learner with the MAPPO paper's value loss and the statistics of HERON's module.

For :class:`~heron.backends.rllib.module.HeronPPOTorchRLModule` s, a learner-connector piece
appended after RLlib's GAE piece

* folds the value targets of the train batch into the value normalisation statistics before the
  gradient updates, whose critic is then fitted to the normalised targets, and
* keeps the batch's observations, which are folded into the observation statistics after the
  gradient updates (so the batch trains with the statistics it was sampled with).

The value loss is a Huber loss (on raw values for other modules, e.g. RLlib's default one). The policy
loss, the entropy bonus and the optional KL term are PPO's; ``vf_clip_param`` caps the per-sample
value loss as in RLlib's PPO.

``learner_config_dict`` keys: ``"vf_huber_delta"`` (default :data:`DEFAULT_HUBER_DELTA`) and ``"torch_threads"``
(default :data:`DEFAULT_TORCH_THREADS`): building the learner calls ``torch.set_num_threads`` with it, for the
whole process the learner runs in (the driver, unless RLlib runs remote learners; with ``num_env_runners=0``
sampling runs there too). HERON's networks are small: on a few CPU cores more threads only contend (measured
on 2 cores: a sensor-network IPPO iteration takes 3 s on one thread, 4 to 20 s on two).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from ray.rllib.algorithms.ppo.ppo import (
    LEARNER_RESULTS_KL_KEY,
    LEARNER_RESULTS_VF_EXPLAINED_VAR_KEY,
    LEARNER_RESULTS_VF_LOSS_UNCLIPPED_KEY,
    PPOConfig,
)
from ray.rllib.algorithms.ppo.torch.ppo_torch_learner import PPOTorchLearner
from ray.rllib.connectors.connector_v2 import ConnectorV2
from ray.rllib.core.columns import Columns
from ray.rllib.core.learner.learner import ENTROPY_KEY, POLICY_LOSS_KEY, VF_LOSS_KEY
from ray.rllib.utils.torch_utils import explained_variance

from heron.backends.rllib.module import HeronPPOTorchRLModule

__all__ = ["DEFAULT_HUBER_DELTA", "DEFAULT_TORCH_THREADS", "HeronPPOTorchLearner"]

DEFAULT_HUBER_DELTA = 10.0
DEFAULT_TORCH_THREADS = 1


def _masked(values: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    return values if mask is None else values[mask]


# Not in __all__ but keeps its name: RLlib names a connector piece by its class (timer metrics, connector
# state, ``pipeline.remove("UpdateHeronStatistics")``).
class UpdateHeronStatistics(ConnectorV2):
    """Learner-connector piece: value statistics now, observations handed to ``keep_observations``."""

    def __init__(self, keep_observations: Callable[[str, dict[str, Any]], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._keep_observations = keep_observations

    def __call__(self, *, rl_module: Any, batch: dict[str, Any], episodes: Any, **kwargs: Any) -> Any:
        for module_id, module_batch in batch.items():
            module = rl_module[module_id].unwrapped() if module_id in rl_module else None
            if not isinstance(module, HeronPPOTorchRLModule):
                continue
            mask = module_batch.get(Columns.LOSS_MASK)
            if module.value_norm is not None and Columns.VALUE_TARGETS in module_batch:
                module.value_norm.update(_masked(module_batch[Columns.VALUE_TARGETS], mask))
            observations = module_batch[Columns.OBS]
            if isinstance(observations, dict):
                kept = {key: _masked(value, mask) for key, value in observations.items()}
            else:
                kept = _masked(observations, mask)
            self._keep_observations(module_id, {Columns.OBS: kept})
        return batch


class HeronPPOTorchLearner(PPOTorchLearner):
    """PPO with a normalised-target Huber value loss and HERON's running statistics (see module docs)."""

    def build(self) -> None:
        torch.set_num_threads(int(self.config.learner_config_dict.get("torch_threads", DEFAULT_TORCH_THREADS)))
        super().build()
        self._pending_observations: dict[str, dict[str, Any]] = {}
        if self._learner_connector is not None:
            self._learner_connector.append(UpdateHeronStatistics(self._pending_observations.__setitem__))

    def after_gradient_based_update(self, *, timesteps: dict[str, Any]) -> None:
        super().after_gradient_based_update(timesteps=timesteps)
        for module_id, batch in self._pending_observations.items():
            self.module[module_id].unwrapped().update_observation_stats(batch)
        self._pending_observations.clear()

    def compute_loss_for_module(
        self, *, module_id: str, config: PPOConfig, batch: dict[str, Any], fwd_out: dict[str, Any]
    ) -> torch.Tensor:
        module = self.module[module_id].unwrapped()
        if Columns.LOSS_MASK in batch:
            mask = batch[Columns.LOSS_MASK]

            def mean(values: torch.Tensor) -> torch.Tensor:
                return values[mask].sum() / mask.sum()
        else:
            mean = torch.mean

        dist = module.get_train_action_dist_cls().from_logits(fwd_out[Columns.ACTION_DIST_INPUTS])
        ratio = torch.exp(dist.logp(batch[Columns.ACTIONS]) - batch[Columns.ACTION_LOGP])
        advantages = batch[Columns.ADVANTAGES]
        surrogate = torch.min(
            advantages * ratio, advantages * torch.clamp(ratio, 1 - config.clip_param, 1 + config.clip_param)
        )
        entropy = dist.entropy()
        entropy_coeff = self.entropy_coeff_schedulers_per_module[module_id].get_current_value()

        values, targets = self._values_and_targets(module, batch)
        delta = float(config.learner_config_dict.get("vf_huber_delta", DEFAULT_HUBER_DELTA))
        vf_loss = torch.nn.functional.huber_loss(values, targets, reduction="none", delta=delta)
        vf_loss_clipped = torch.clamp(vf_loss, 0, config.vf_clip_param)

        total = mean(-surrogate + config.vf_loss_coeff * vf_loss_clipped - entropy_coeff * entropy)
        if config.use_kl_loss:
            old_dist = module.get_exploration_action_dist_cls().from_logits(batch[Columns.ACTION_DIST_INPUTS])
            kl = mean(old_dist.kl(dist))
            total = total + self.curr_kl_coeffs_per_module[module_id] * kl
        else:
            kl = torch.zeros((), device=ratio.device)

        self.metrics.log_dict(
            {
                POLICY_LOSS_KEY: -mean(surrogate),
                VF_LOSS_KEY: mean(vf_loss_clipped),
                LEARNER_RESULTS_VF_LOSS_UNCLIPPED_KEY: mean(vf_loss),
                LEARNER_RESULTS_VF_EXPLAINED_VAR_KEY: explained_variance(targets, values),
                ENTROPY_KEY: mean(entropy),
                LEARNER_RESULTS_KL_KEY: kl,
            },
            key=module_id,
            window=1,
        )
        return total

    @staticmethod
    def _values_and_targets(module: Any, batch: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        targets = batch[Columns.VALUE_TARGETS]
        normalizer = module.value_norm if isinstance(module, HeronPPOTorchRLModule) else None
        if normalizer is None:
            return module.compute_values(batch), targets
        return module.normalized_values(batch), normalizer.normalize(targets)
