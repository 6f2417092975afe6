"""The test matrix: heron-core alone, each backend, all together, and lint.

    nox                  # every session below (what CI runs)
    nox -s core manual   # the quick loop

Distributions are installed from their folders without ``-e``, so entry
points are tested as users get them. Sessions that need PyTorch install the
pinned CPU wheel ``torch==2.13.0`` first, in its own call, so that
``heron-backend-rllib``'s range requirement is already met.
"""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "core", "manual", "example", "rllib", "all"]
nox.options.default_venv_backend = "virtualenv"  # uv would not see the local CPU torch wheel
nox.options.error_on_missing_interpreters = True

PYTHON = "3.11"
TORCH = "torch==2.13.0"
TEST_DEPS = ["pytest>=8", "hatchling>=1.18", "pettingzoo>=1.24", "tensorboard>=2.14"]  # tensorboard: reads events
CORE, MANUAL, RLLIB = "./heron_core", "./heron_backend_manual", "./heron_backend_rllib"
EXAMPLE = "./examples/heron_backend_cem"


def _pytest(session: nox.Session, *paths: str) -> None:
    session.run("pytest", *paths, *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff over every package, the tests and the benchmarks; import-linter's layer contracts (pyproject.toml)."""
    session.install("ruff>=0.5", "import-linter>=2.1")
    session.run("ruff", "check", "heron_core", "heron_backend_manual", "heron_backend_rllib", "examples", "tests",
                "benchmarks", "noxfile.py")
    session.install("--no-deps", CORE, MANUAL, RLLIB)  # import-linter reads the installed sources, imports nothing
    session.run("lint-imports")


@nox.session(python=PYTHON)
def core(session: nox.Session) -> None:
    """heron-core alone: it must work without ray and torch."""
    session.install(CORE, *TEST_DEPS)
    no_ray_or_torch = "import importlib.util as u, sys; sys.exit(any(u.find_spec(m) for m in ('ray', 'torch')))"
    session.run("python", "-c", no_ray_or_torch)
    _pytest(session, "tests/core", "tests/test_packaging.py")


@nox.session(python=PYTHON)
def manual(session: nox.Session) -> None:
    """heron-core with the numpy backend."""
    session.install(CORE, MANUAL, *TEST_DEPS)
    _pytest(session, "tests/manual")


@nox.session(python=PYTHON)
def example(session: nox.Session) -> None:
    """The example third-party backend, checked by the conformance suite."""
    session.install(CORE, EXAMPLE, *TEST_DEPS)
    _pytest(session, "examples/heron_backend_cem/tests")


@nox.session(python=PYTHON)
def rllib(session: nox.Session) -> None:
    """heron-core with the RLlib backend (pinned CPU torch first)."""
    session.install(TORCH)
    session.install(CORE, RLLIB, *TEST_DEPS)
    _pytest(session, "tests/rllib")


@nox.session(python=PYTHON, name="all")
def all_together(session: nox.Session) -> None:
    """Every distribution in one environment: namespaces, plugin listing and cross-backend tests."""
    session.install(TORCH)
    session.install(CORE, MANUAL, RLLIB, *TEST_DEPS)
    _pytest(session, "tests/core", "tests/test_packaging.py", "tests/test_all_installed.py")
