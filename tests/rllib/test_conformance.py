"""The RLlib backend passes HERON's backend conformance suite (heron.testing.conformance)."""

from __future__ import annotations

from heron.testing.conformance import BackendConformance


class TestRLlibBackend(BackendConformance):
    backend = "rllib"
    budget = {"episodes": 100}  # 10 PPO iterations of 500 env steps per algorithm
    improvement_margin = 100.0  # random play scores about -600 on the two rooms; 100 episodes reach about -200
