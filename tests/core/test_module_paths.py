"""The module paths upstream HERON users import are the real homes of their classes."""

from __future__ import annotations

import importlib

import pytest

HOMES = {
    "heron.core.feature": ["Feature"],
    "heron.core.action": ["Action"],
    "heron.core.observation": ["Observation"],
    "heron.core.state": ["State"],
    "heron.core.policies": ["Policy"],
    "heron.agents.base": ["Agent"],
    "heron.agents.field_agent": ["FieldAgent"],
    "heron.agents.coordinator_agent": ["CoordinatorAgent"],
    "heron.agents.system_agent": ["SystemAgent"],
    "heron.protocols.base": ["Protocol"],
    "heron.protocols.vertical": ["VerticalProtocol"],
    "heron.envs.base": ["BaseEnv"],
    "heron.envs.simple": ["DefaultHeronEnv"],
    "heron.envs.builder": ["EnvBuilder"],
    "heron.scheduling.schedule_config": ["ScheduleConfig", "JitterType"],
    "heron.scheduling.event": ["Event", "EventType"],
    "heron.scheduling.scheduler": ["EventScheduler"],
    "heron.scheduling.analysis": ["EpisodeAnalyzer"],
}

PACKAGE_NAMES = {
    "heron.core": ["Feature", "Action", "Observation", "State", "Policy", "obs_to_vector", "vector_to_action"],
    "heron.agents": ["Agent", "FieldAgent", "CoordinatorAgent", "SystemAgent"],
    "heron.protocols": ["Protocol", "VerticalProtocol"],
    "heron.envs": ["BaseEnv", "DefaultHeronEnv", "EnvBuilder", "build_env"],
    "heron.scheduling": ["ScheduleConfig", "JitterType", "EpisodeAnalyzer", "EventScheduler", "Event", "EventType"],
}


@pytest.mark.parametrize(("module", "names"), HOMES.items())
def test_each_upstream_module_path_is_the_home_of_its_classes(module, names):
    imported = importlib.import_module(module)
    for name in names:
        assert getattr(imported, name).__module__ == module, f"{module}.{name} is re-exported from elsewhere"


@pytest.mark.parametrize(("package", "names"), PACKAGE_NAMES.items())
def test_package_level_names_keep_working(package, names):
    imported = importlib.import_module(package)
    for name in names:
        assert name in imported.__all__ and getattr(imported, name) is not None


def test_level_constants_and_agent_id_alias():
    from heron.agents import CoordinatorAgent, FieldAgent, SystemAgent
    from heron.agents.constants import COORDINATOR_LEVEL, FIELD_LEVEL, SYSTEM_LEVEL
    from heron.utils.typing import AgentID

    levels = (FieldAgent.level, CoordinatorAgent.level, SystemAgent.level)
    assert levels == (FIELD_LEVEL, COORDINATOR_LEVEL, SYSTEM_LEVEL)
    assert AgentID is str


def test_every_public_name_of_a_package_is_importable():
    for package in [*PACKAGE_NAMES, "heron.training", "heron.evaluation", "heron.runs", "heron.portable"]:
        imported = importlib.import_module(package)
        missing = [name for name in imported.__all__ if not hasattr(imported, name)]
        assert not missing, f"{package}.__all__ lists names it lacks: {missing}"
