"""The core's definitions of ippo and mappo, and the sharing groups every backend uses."""

from __future__ import annotations

import pytest

from heron.core.errors import ConfigError
from heron.demo_envs.thermostat import Thermostat, thermostat_config
from heron.envs import build_env
from heron.training import (
    ALGORITHM_DEFINITIONS,
    ALGORITHMS,
    SHARED_GROUP,
    Critic,
    ExperimentSpec,
    PolicySharing,
    agent_kinds,
    algorithm_definition,
    sharing_groups,
)


class Radiator(Thermostat):
    """Another kind of agent with the thermostat's spaces."""


def rooms(*classes: type, modes: list[str] | None = None) -> dict:
    config = thermostat_config(num_rooms=len(classes))
    for index, (agent, cls) in enumerate(zip(config["agents"], classes)):
        agent["agent_cls"] = cls
        if modes:
            agent["observation_mode"] = modes[index]
    return config


def test_the_names_are_the_definitions_in_order():
    assert ALGORITHMS == ("ippo", "mappo") == tuple(ALGORITHM_DEFINITIONS)
    with pytest.raises(TypeError):
        ALGORITHM_DEFINITIONS["ppo"] = ALGORITHM_DEFINITIONS["ippo"]  # type: ignore[index]


def test_ippo_is_per_agent_with_local_critics_and_mappo_per_kind_with_a_global_state_critic():
    ippo, mappo = algorithm_definition("ippo"), algorithm_definition("mappo")
    assert (ippo.sharing, ippo.critic) == (PolicySharing.PER_AGENT, Critic.OWN_OBSERVATION)
    assert (mappo.sharing, mappo.critic) == (PolicySharing.PER_KIND, Critic.GLOBAL_STATE)
    assert mappo.critic == "global_state" and ippo.name == "ippo"


def test_unknown_algorithms_name_the_backend_and_the_expected_names():
    expected = r"unknown algorithm 'ppo' \(did you mean 'ippo' or 'mappo'\?\); expected one of \['ippo', 'mappo'\]"
    with pytest.raises(ConfigError, match=rf"^backend 'cem': {expected}"):
        algorithm_definition("ppo", "cem")
    with pytest.raises(ConfigError, match=rf"^{expected}$"):
        ExperimentSpec(algorithm="ppo")
    with pytest.raises(ConfigError, match="backend 'x': unknown algorithm 'ppo'"):
        sharing_groups(build_env(thermostat_config()), "ppo", "x")


def test_ippo_gives_every_agent_its_own_group_in_env_order():
    env = build_env(thermostat_config(num_rooms=3))
    assert sharing_groups(env, "ippo") == {"room_a": ["room_a"], "room_b": ["room_b"], "room_c": ["room_c"]}


def test_mappo_groups_the_agents_of_one_class():
    assert sharing_groups(build_env(thermostat_config(num_rooms=3)), "mappo") == {
        "Thermostat": ["room_a", "room_b", "room_c"]
    }
    env = build_env(rooms(Thermostat, Radiator, Thermostat))  # same spaces, two classes: two kinds
    assert sharing_groups(env, "mappo") == {"Thermostat": ["room_a", "room_c"], "Radiator": ["room_b"]}


def test_mappo_may_share_one_policy_among_all_agents_of_every_kind():
    env = build_env(rooms(Thermostat, Radiator, Thermostat))
    assert sharing_groups(env, "mappo", sharing="all") == {SHARED_GROUP: ["room_a", "room_b", "room_c"]}
    assert sharing_groups(env, "mappo", sharing=PolicySharing.PER_KIND) == agent_kinds(env)
    assert agent_kinds(env) == {"Thermostat": ["room_a", "room_c"], "Radiator": ["room_b"]}


@pytest.mark.parametrize(
    ("algorithm", "sharing", "message"),
    [
        ("mappo", "everyone", "backend 'b': unknown policy sharing 'everyone'; mappo shares one of ['all', "
                              "'per_kind']"),
        ("mappo", "per_agent", "backend 'b': mappo shares per_kind; it cannot share 'per_agent' (expected one of "
                               "['all', 'per_kind'])"),
        ("ippo", "all", "backend 'b': ippo shares per_agent; it cannot share 'all' (expected one of ['per_agent'])"),
    ],
)
def test_a_sharing_the_algorithm_does_not_allow_is_refused(algorithm, sharing, message):
    with pytest.raises(ConfigError) as info:
        sharing_groups(build_env(thermostat_config()), algorithm, "b", sharing=sharing)
    assert str(info.value) == message


def test_two_classes_of_the_same_name_are_two_kinds():
    twin = type("Thermostat", (Thermostat,), {})
    groups = sharing_groups(build_env(rooms(Thermostat, twin)), "mappo")
    assert groups == {"Thermostat": ["room_a"], "Thermostat_": ["room_b"]}


def test_mappo_rejects_one_class_with_different_spaces_naming_backend_and_values():
    env = build_env(rooms(Thermostat, Thermostat, modes=["local", "full"]))
    with pytest.raises(ConfigError) as info:
        sharing_groups(env, "mappo", "mybackend")
    message = str(info.value)
    assert message.startswith("mappo shares one policy among the Thermostat agents, but their spaces differ")
    assert "room_a observes 1 value(s) in mode 'local' and acts with dim_c=1 range=([-1.0], [1.0])" in message
    assert "room_b observes 3 value(s) in mode 'full'" in message
    assert message.endswith("or train with ippo (backend 'mybackend')")
    assert sharing_groups(env, "ippo") == {"room_a": ["room_a"], "room_b": ["room_b"]}


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("classes", [(Thermostat, Thermostat), (Thermostat, Radiator, Thermostat)])
def test_the_manual_backend_groups_agents_as_the_core_does(algorithm, classes):
    groups_module = pytest.importorskip("heron.backends.manual._groups")
    env = build_env(rooms(*classes))
    policies = groups_module.make_policies(env, algorithm)
    assert {plan.name: [aid for group in plan.groups for aid in group.agent_ids] for plan in policies} == (
        sharing_groups(env, algorithm)
    )
