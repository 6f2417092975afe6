"""HeronEnvRunner (draft)."""
from __future__ import annotations

from typing import Any

from ray.rllib.env.multi_agent_env_runner import MultiAgentEnvRunner

__all__ = ["HeronEnvRunner"]


class HeronEnvRunner(MultiAgentEnvRunner):
    @classmethod
    def evaluation_config(cls, t_end: float, schedule: Any = None) -> dict[str, Any]:
        return {}
