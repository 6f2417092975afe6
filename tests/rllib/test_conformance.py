"""The RLlib backend passes HERON's backend conformance suite (heron.testing.conformance)."""

from __future__ import annotations

from heron.testing.conformance import BackendConformance


class TestRLlibBackend(BackendConformance):
    backend = "rllib"
    budget = {"episodes": 60}  # 6 PPO iterations of 500 env steps per algorithm
    improvement_margin = 50.0  # random play scores about -590 on the two rooms; 60 episodes reach about -480
