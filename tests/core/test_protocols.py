"""Protocols: composition, vertical action decomposition, horizontal state sharing, and the env hooks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from heron.agents import CoordinatorAgent, FieldAgent, SystemAgent
from heron.core import Action, Feature
from heron.core.errors import ActionError, ConfigError, UnknownAgentError
from heron.envs import DefaultHeronEnv
from heron.protocols import (
    ActionProtocol,
    BroadcastActionProtocol,
    CommunicationProtocol,
    HorizontalProtocol,
    NoActionCoordination,
    NoCommunication,
    NoProtocol,
    Protocol,
    StateShareCommunicationProtocol,
    VectorDecompositionActionProtocol,
    VerticalProtocol,
    make_protocol,
)


@dataclass
class Output(Feature):
    visibility = ["public"]
    power: float = 0.0


class Generator(FieldAgent):
    """``dim_c`` continuous setpoints in [-1, 1] and ``ncats`` discrete heads; power is their sum."""

    def __init__(self, agent_id, dim_c=1, ncats=(), **kwargs):
        self._dims = (dim_c, list(ncats))
        super().__init__(agent_id, [Output()], **kwargs)

    def init_action(self, features):
        dim_c, ncats = self._dims
        return Action().set_specs(dim_c=dim_c, ncats=ncats, range=(-1.0, 1.0) if dim_c else None)

    def apply_action(self):
        self.state.features["Output"].power = float(self.action.vector().sum())

    def compute_local_reward(self, local_state):
        return 0.0


def generators(*dims):
    return {f"g{i}": Generator(f"g{i}", *dim) for i, dim in enumerate(dims)}


def coordinator(protocol, subs):
    return CoordinatorAgent("op", subordinates=subs, protocol=protocol)


def dispatched(protocol, subs, value):
    boss = coordinator(protocol, subs)
    boss.set_action(value)
    boss.protocol.dispatch(boss)
    return {sub_id: sub.action.vector().tolist() for sub_id, sub in subs.items()}


class Recorder(CommunicationProtocol):
    """Names its second parameter as upstream's StateShare does; records what it was called with."""

    def compute_coordination_messages(self, sender_state, receiver_states, context=None):
        self.call = (sender_state, receiver_states, context)
        return {rid: {"seen_by": sender_state} for rid in receiver_states}


class Halves(ActionProtocol):
    """A custom action protocol: each subordinate gets half the coordinator's first value."""

    def compute_action_coordination(self, coordinator_action, info_for_subordinates=None,
                                    coordination_messages=None, context=None):
        self.messages = coordination_messages
        return {sid: np.array([coordinator_action.c[0] / 2]) for sid in info_for_subordinates}


class Returns(ActionProtocol):
    """Returns a fixed result, to check what dispatch accepts."""

    def __init__(self, result):
        self.result = result

    def compute_action_coordination(self, coordinator_action, info_for_subordinates=None,
                                    coordination_messages=None, context=None):
        return self.result


# ------------------------------------------------------------ composition
def test_coordinate_runs_communication_then_action_and_hands_the_messages_on():
    recorder, halves = Recorder(), Halves()
    protocol = Protocol(communication_protocol=recorder, action_protocol=halves)
    action = Action().set_specs(dim_c=1, range=(-1, 1)).set_values([0.8])
    messages, actions = protocol.coordinate("boss", action, {"a": 1, "b": 2}, {"k": 1})
    assert recorder.call == ("boss", {"a": 1, "b": 2}, {"k": 1})
    assert messages == {"a": {"seen_by": "boss"}, "b": {"seen_by": "boss"}}
    assert halves.messages is messages
    assert {sid: a.tolist() for sid, a in actions.items()} == {"a": [0.4], "b": [0.4]}


def test_default_protocol_sends_nothing_and_coordinates_no_action():
    for protocol in (Protocol(), NoProtocol()):
        assert isinstance(protocol.communication_protocol, NoCommunication)
        assert isinstance(protocol.action_protocol, NoActionCoordination)
        assert protocol.coordinate(None, None, {"a": 0, "b": 0}) == ({"a": {}, "b": {}}, {"a": None, "b": None})


def test_vertical_protocol_defaults_to_no_messages_and_vector_decomposition():
    protocol = VerticalProtocol()
    assert isinstance(protocol.communication_protocol, NoCommunication)
    assert isinstance(protocol.action_protocol, VectorDecompositionActionProtocol)


def test_protocol_parts_must_be_instances():
    with pytest.raises(ConfigError, match=r"pass an instance: BroadcastActionProtocol\(\)"):
        VerticalProtocol(action_protocol=BroadcastActionProtocol)
    with pytest.raises(ConfigError, match="expected a CommunicationProtocol instance"):
        Protocol(communication_protocol="none")


def test_register_subordinates_reaches_the_action_protocol():
    protocol = VerticalProtocol()
    protocol.register_subordinates(generators((2,), (1,)))
    _, actions = protocol.coordinate(None, [1, 2, 3])
    assert {sid: a.tolist() for sid, a in actions.items()} == {"g0": [1, 2], "g1": [3]}


def test_make_protocol_resolves_names_classes_and_instances_and_refuses_bare_parts():
    assert isinstance(make_protocol("vertical", "op"), VerticalProtocol)
    assert isinstance(make_protocol(HorizontalProtocol, "op"), HorizontalProtocol)
    instance = NoProtocol()
    assert make_protocol(instance, "op") is instance
    with pytest.raises(ConfigError, match=r"coordinator 'op': BroadcastActionProtocol is only part of a protocol"):
        make_protocol(BroadcastActionProtocol(), "op")


# ---------------------------------------------------------- vertical, direct
def test_vector_decomposition_splits_continuous_then_discrete_parts_per_subordinate():
    protocol = VerticalProtocol()
    protocol.register_subordinates(generators((1, [3]), (2,), (0, [2, 4])))
    # joint layout: continuous g0, g1 (3 values), then discrete g0, g2 (3 heads)
    _, actions = protocol.coordinate(None, np.array([0.1, 0.2, 0.3, 2, 1, 3]), {"g0": None, "g1": None, "g2": None})
    assert {sid: a.tolist() for sid, a in actions.items()} == {"g0": [0.1, 2], "g1": [0.2, 0.3], "g2": [1, 3]}


def test_vector_decomposition_follows_the_order_and_subset_of_info_for_subordinates():
    protocol = VerticalProtocol()
    protocol.register_subordinates(generators((1,), (1,), (1,)))
    _, actions = protocol.coordinate(None, [5.0, 7.0], {"g2": None, "g0": None})
    assert {sid: a.tolist() for sid, a in actions.items()} == {"g2": [5.0], "g0": [7.0]}


@pytest.mark.parametrize("value", [[0.1, 0.2], [0.1, 0.2, 0.3, 0.4], 0.5])
def test_a_joint_action_of_the_wrong_size_names_the_coordinator_and_both_sizes(value):
    protocol = VerticalProtocol()
    protocol.register_subordinates(generators((1,), (2,)))
    size = np.size(value)
    with pytest.raises(ActionError, match=rf"coordinator 'op': joint action has {size} value\(s\), expected dim_c=3"):
        protocol.coordinate(None, value, context={"coordinator_id": "op"})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "no coordinator action to pass on"),
        ({"g0": [0.1]}, "got a dict; concatenate"),
        ([np.nan], "NaN or infinity"),
        (["high"], "is not numeric"),
    ],
)
def test_vector_decomposition_refuses_missing_dict_nan_and_non_numeric_actions(value, message):
    protocol = VerticalProtocol()
    protocol.register_subordinates(generators((1,)))
    with pytest.raises(ActionError, match=message):
        protocol.coordinate(None, value)


def test_vector_decomposition_refuses_subordinates_of_unknown_size():
    protocol = VerticalProtocol()
    with pytest.raises(UnknownAgentError, match=r"no action size known for subordinate\(s\) \['g0'\]"):
        protocol.coordinate(None, [0.1], {"g0": None})
    protocol.register_subordinates(generators((1,)))
    with pytest.raises(UnknownAgentError, match=r"\['ghost'\] \(known: \['g0'\]"):
        protocol.coordinate(None, [0.1, 0.2], {"g0": None, "ghost": None})


def test_broadcast_gives_every_subordinate_its_own_copy():
    protocol = VerticalProtocol(action_protocol=BroadcastActionProtocol())
    _, actions = protocol.coordinate(None, np.array([0.5]), {"a": None, "b": None})
    assert {sid: a.tolist() for sid, a in actions.items()} == {"a": [0.5], "b": [0.5]}
    actions["a"][0] = 9.0
    assert actions["b"][0] == 0.5


def test_broadcast_to_a_registered_subordinate_of_another_size_is_an_error():
    protocol = VerticalProtocol(action_protocol=BroadcastActionProtocol())
    protocol.register_subordinates(generators((1,), (2,)))
    with pytest.raises(ActionError, match=r"has 1 value\(s\), but subordinate\(s\) expect \{'g1': 2\}"):
        protocol.coordinate(None, [0.5])


# ----------------------------------------------------- joint action specs
def test_vertical_joint_action_concatenates_the_acting_subordinates_specs():
    subs = generators((1, [3]), (2,))
    subs["idle"] = Generator("idle", 0)
    boss = coordinator(VerticalProtocol(), subs)
    assert (boss.action.dim_c, boss.action.ncats) == (3, (3,))
    assert boss.action.owner == "op"


def test_broadcast_and_custom_action_protocols_take_the_spec_the_subordinates_share():
    for part in (BroadcastActionProtocol(), Halves()):
        boss = coordinator(Protocol(action_protocol=part), generators((2,), (2,)))
        assert (boss.action.dim_c, boss.action.range[0].tolist()) == (2, [-1.0, -1.0])


def test_subordinates_with_different_specs_have_no_shared_spec():
    with pytest.raises(ConfigError, match=r"coordinator 'op': BroadcastActionProtocol .* their actions differ"):
        coordinator(VerticalProtocol(action_protocol=BroadcastActionProtocol()), generators((1,), (2,)))


def test_no_action_coordination_leaves_the_coordinator_without_action():
    boss = coordinator(HorizontalProtocol(), generators((1,), (1,)))
    assert not boss.acts


# ------------------------------------------------------------- dispatch
def test_dispatch_sets_each_acting_subordinate_its_slice():
    subs = generators((1,), (2,))
    subs["idle"] = Generator("idle", 0)
    assert dispatched(VerticalProtocol(), subs, [0.1, 0.2, 0.3]) == {"g0": [0.1], "g1": [0.2, 0.3], "idle": []}


def test_dispatch_of_a_custom_action_protocol_receives_the_agents_and_coordinator_id():
    seen = {}

    class Spy(Halves):
        def compute_action_coordination(self, coordinator_action, info_for_subordinates=None,
                                        coordination_messages=None, context=None):
            seen.update(info=info_for_subordinates, context=context)
            return super().compute_action_coordination(coordinator_action, info_for_subordinates,
                                                       coordination_messages, context)

    subs = generators((1,), (1,))
    assert dispatched(Protocol(action_protocol=Spy()), subs, [0.6]) == {"g0": [0.3], "g1": [0.3]}
    assert seen["info"] == subs and seen["context"] == {"coordinator_id": "op", "subordinates": subs}


@pytest.mark.parametrize(
    ("result", "error", "message"),
    [
        ({"g0": [0.1], "g1": [0.1], "ghost": [0.1]}, UnknownAgentError, r"gave actions to \['ghost'\]"),
        ({"g0": [0.1]}, ActionError, r"gave no action to subordinate\(s\) \['g1'\] \(upstream keeps"),
        ({"g0": [0.1], "g1": None}, ActionError, r"gave no action to subordinate\(s\) \['g1'\]"),
        ({"g0": [0.1], "g1": [0.1, 0.2]}, ActionError, r"gave subordinate 'g1' an action it refuses"),
        ([0.1, 0.1], ActionError, r"must return \{subordinate_id: action\}"),
    ],
)
def test_dispatch_refuses_actions_for_strangers_missing_actions_and_wrong_shapes(result, error, message):
    with pytest.raises(error, match=rf"coordinator 'op': Returns\b.*{message}"):
        dispatched(Protocol(action_protocol=Returns(result)), generators((1,), (1,)), [0.0])


def test_dispatch_passes_an_action_down_every_level_with_a_protocol():
    low, high = generators((1,), (1,)), {"g9": Generator("g9")}
    ops = {"op": coordinator(VerticalProtocol(), low), "op2": CoordinatorAgent("op2", subordinates=high)}
    top = SystemAgent(protocol="vertical")
    top.attach_subordinates(ops)
    assert top.action.dim_c == 2  # op2 has no protocol: it neither acts nor passes anything down
    top.set_action([0.3, -0.2])
    top.protocol.dispatch(top)
    assert [sub.action.c.tolist() for sub in low.values()] == [[0.3], [-0.2]]
    assert high["g9"].action.c.tolist() == [0.0]


def test_a_coordinator_action_of_its_own_must_fit_the_vertical_split():
    class Boss(CoordinatorAgent):
        def init_action(self, features):
            return Action().set_specs(dim_c=3, range=(-1, 1))

    boss = Boss("op", subordinates=generators((1,), (1,)), protocol="vertical")
    boss.set_action([0.1, 0.2, 0.3])
    with pytest.raises(ActionError, match=r"coordinator 'op': joint action has dim_c=3, dim_d=0, expected dim_c=2"):
        boss.protocol.dispatch(boss)


def make_env(protocol):
    subs = generators((1,), (1,))
    boss = CoordinatorAgent("op", protocol=protocol)
    return DefaultHeronEnv(
        agents=[SystemAgent(), boss, *subs.values()],
        hierarchy={"system_agent": ["op"], "op": list(subs)},
        simulation_func=lambda states: states,
    ), subs


@pytest.mark.parametrize(("protocol", "action", "powers"), [
    (VerticalProtocol(), [0.25, -0.5], [0.25, -0.5]),
    (VerticalProtocol(action_protocol=BroadcastActionProtocol()), [0.75], [0.75, 0.75]),
])
def test_env_step_passes_the_coordinator_action_down_through_its_protocol(protocol, action, powers):
    env, subs = make_env(protocol)
    env.reset(seed=0)
    assert env.agents == ["op"]
    env.step({"op": np.array(action)})
    assert [sub.state.features["Output"].power for sub in subs.values()] == powers


def test_under_a_horizontal_protocol_the_subordinates_choose_their_own_actions():
    env, subs = make_env(HorizontalProtocol())
    env.reset(seed=0)
    assert sorted(env.agents) == ["g0", "g1"]
    env.step({"g0": [0.5], "g1": [-0.5]})
    assert [sub.state.features["Output"].power for sub in subs.values()] == [0.5, -0.5]


# ---------------------------------------------------------- horizontal
STATES = {f"s{i}": {"temperature": 20.0 + i, "humidity": 40.0 + i} for i in range(4)}


def neighbours(messages):
    return {aid: list(message["neighbors"]) for aid, message in messages.items()}


def test_state_share_is_fully_connected_by_default_and_shares_states_as_given():
    messages = StateShareCommunicationProtocol().compute_coordination_messages(None, STATES)
    assert neighbours(messages)["s0"] == ["s1", "s2", "s3"]
    assert messages["s0"] == {"type": "neighbor_states", "neighbors": {k: STATES[k] for k in ("s1", "s2", "s3")}}


def test_state_share_follows_the_topology_and_filters_fields():
    ring = {"s0": ["s3", "s1"], "s1": ["s0", "s2"], "s2": ["s1", "s3"], "s3": ["s2", "s0"]}
    protocol = StateShareCommunicationProtocol(state_fields=["temperature"], topology=ring)
    messages = protocol.compute_coordination_messages(None, STATES)
    assert neighbours(messages) == ring
    assert messages["s1"]["neighbors"] == {"s0": {"temperature": 20.0}, "s2": {"temperature": 22.0}}


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"topology": {"s0": ["s9"], "s1": [], "s2": [], "s3": []}}, UnknownAgentError, r"\['s9'\] that have no state"),
        ({"topology": {"s0": ["s1"]}}, ConfigError, r"no entry for agent\(s\) \['s1', 's2', 's3'\]"),
        ({"state_fields": ["pressure"]}, ConfigError, r"has no field\(s\) \['pressure'\]"),
    ],
)
def test_state_share_refuses_unknown_agents_missing_topology_entries_and_missing_fields(kwargs, error, message):
    with pytest.raises(error, match=message):
        StateShareCommunicationProtocol(**kwargs).compute_coordination_messages(None, STATES)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"state_fields": []}, r"would share no field \(upstream shares all\)"),
        ({"state_fields": "temperature"}, "state_fields must be a list of names"),
        ({"topology": {"s0": "s1"}}, r"topology\['s0'\] must be a list of names"),
        ({"topology": [("s0", "s1")]}, "topology must be a dict"),
    ],
)
def test_state_share_refuses_malformed_fields_and_topologies(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        StateShareCommunicationProtocol(**kwargs)


def test_state_share_fields_need_dict_states():
    protocol = StateShareCommunicationProtocol(state_fields=["temperature"])
    with pytest.raises(ConfigError, match="needs dict states"):
        protocol.compute_coordination_messages(None, {"a": 1.0, "b": 2.0})


def test_horizontal_protocol_coordinate_shares_state_and_coordinates_no_action():
    protocol = HorizontalProtocol(state_fields=["humidity"], topology={"s0": ["s1"], "s1": ["s0"]})
    states = {k: STATES[k] for k in ("s0", "s1")}
    messages, actions = protocol.coordinate(None, None, states)
    assert messages["s0"]["neighbors"] == {"s1": {"humidity": 41.0}}
    assert actions == {"s0": None, "s1": None}


def test_horizontal_protocol_refuses_fields_beside_its_own_communication_protocol():
    with pytest.raises(ConfigError, match="give them to that protocol instead"):
        HorizontalProtocol(communication_protocol=NoCommunication(), topology={"a": []})


def test_each_protocol_class_lives_in_its_upstream_module():
    homes = {
        "heron.protocols.base": [Protocol, NoProtocol, CommunicationProtocol, ActionProtocol, NoCommunication,
                                 NoActionCoordination],
        "heron.protocols.vertical": [VerticalProtocol, VectorDecompositionActionProtocol, BroadcastActionProtocol],
        "heron.protocols.horizontal": [HorizontalProtocol, StateShareCommunicationProtocol],
    }
    assert {module: [cls.__module__ for cls in classes] for module, classes in homes.items()} == {
        module: [module] * len(classes) for module, classes in homes.items()
    }
