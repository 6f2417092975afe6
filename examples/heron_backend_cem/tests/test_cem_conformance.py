"""The example backend passes HERON's backend conformance suite."""

from heron.testing.conformance import BackendConformance


class TestCEMBackend(BackendConformance):
    backend = "cem"
    budget = {"episodes": 160}
