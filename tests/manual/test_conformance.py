"""The manual backend passes HERON's backend conformance suite."""

from heron.testing.conformance import BackendConformance


class TestManualBackend(BackendConformance):
    backend = "manual"
    budget = {"episodes": 100}  # seed 0: the mean return of 20 episodes rises from about -545 by 370 or more
    improvement_margin = 200.0
