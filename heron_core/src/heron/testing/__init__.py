"""The conformance kit for backend authors (needs pytest): ``from heron.testing import BackendConformance``."""

from heron.testing.conformance import BackendConformance

__all__ = ["BackendConformance"]
