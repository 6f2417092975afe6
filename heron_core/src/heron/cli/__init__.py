"""The ``heron`` command line (see :mod:`heron.cli.main`)."""

from heron.cli.main import cli

__all__ = ["cli"]
