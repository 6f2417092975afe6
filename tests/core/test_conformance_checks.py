"""The conformance suite's checks of what ippo and mappo mean and of ``stop={"env_steps": N}`` catch bad backends."""

from __future__ import annotations

import math

import pytest

from heron.demo_envs.thermostat import ProportionalController
from heron.testing import conformance
from heron.testing.conformance import BackendConformance, TrainedRun
from heron.training import EpisodeRecord, ExperimentSpec, TrainingResult

EPISODE = 50  # the thermostat's episode length


class Suite(BackendConformance):
    """The suite against fake trainers (not collected: its name does not start with Test)."""

    backend = "fake"


class FixedPolicies:
    """A 'trained' trainer whose policies are given."""

    def __init__(self, policies: dict) -> None:
        self._policies = policies

    def policies(self) -> dict:
        return dict(self._policies)


def run(algorithm: str, **policies) -> dict[str, TrainedRun]:
    return {algorithm: TrainedRun(FixedPolicies(policies), None)}  # type: ignore[arg-type]


def test_ippo_check_passes_for_policies_of_their_own():
    Suite().test_ippo_gives_every_agent_a_policy_of_its_own(
        run("ippo", room_a=ProportionalController(0.5), room_b=ProportionalController(0.8))
    )


def test_ippo_check_fails_for_one_shared_policy_object():
    shared = ProportionalController()
    with pytest.raises(AssertionError, match="agents share a policy object"):
        Suite().test_ippo_gives_every_agent_a_policy_of_its_own(run("ippo", room_a=shared, room_b=shared))


def test_ippo_check_fails_for_agents_that_always_act_alike():
    with pytest.raises(AssertionError, match="'room_a' and 'room_b' act identically"):
        Suite().test_ippo_gives_every_agent_a_policy_of_its_own(
            run("ippo", room_a=ProportionalController(), room_b=ProportionalController())
        )


def test_mappo_check_passes_for_a_shared_policy_and_fails_for_different_ones():
    Suite().test_mappo_agents_of_one_group_act_alike(
        run("mappo", room_a=ProportionalController(), room_b=ProportionalController())
    )
    with pytest.raises(AssertionError, match="'room_b' acts differently from 'room_a'"):
        Suite().test_mappo_agents_of_one_group_act_alike(
            run("mappo", room_a=ProportionalController(0.5), room_b=ProportionalController(0.8))
        )


class StepsTrainer:
    """Records 50-step episodes in batches of ``batch`` until ``planned(N)`` env steps are reached."""

    def __init__(self, spec: ExperimentSpec, planned, batch: int = 1) -> None:
        self.spec, self.planned, self.batch = spec, planned, batch

    def train(self, progress=None) -> TrainingResult:
        goal, episodes = self.planned(self.spec.stop.env_steps), []
        while not episodes or episodes[-1].env_steps < goal:
            for _ in range(self.batch):
                episodes.append(EpisodeRecord(len(episodes) + 1, 0.0, {}, (len(episodes) + 1) * EPISODE))
        return TrainingResult("fake", self.spec.algorithm, episodes, 0.0, episodes[-1].env_steps)


@pytest.mark.parametrize("batch", [1, 4, 10])
def test_env_steps_check_passes_when_the_run_finishes_the_episode_or_batch_in_progress(monkeypatch, batch):
    monkeypatch.setattr(conformance, "make_trainer", lambda spec, backend: StepsTrainer(spec, lambda n: n, batch))
    Suite().test_stops_after_env_steps("ippo")


@pytest.mark.parametrize(
    ("planned", "message"),
    [
        (lambda n: 10 * EPISODE, "trained 500 env steps; expected at least 1250"),  # ignores env_steps
        (lambda n: 2 * n, "trained 250 env steps; expected at least 125 and less than 175"),  # twice as long
        (lambda n: n + n // 2, "trained 200 env steps; expected at least 125 and less than 175"),  # half as long again
    ],
)
def test_env_steps_check_fails_when_the_run_does_not_stop_near_n(monkeypatch, planned, message):
    monkeypatch.setattr(conformance, "make_trainer", lambda spec, backend: StepsTrainer(spec, planned))
    with pytest.raises(AssertionError, match=message):
        Suite().test_stops_after_env_steps("mappo")


def test_env_steps_check_fails_when_the_reported_steps_disagree_with_the_episodes(monkeypatch):
    class Miscounting(StepsTrainer):
        def train(self, progress=None) -> TrainingResult:
            result = super().train(progress)
            result.env_steps = math.ceil(self.spec.stop.env_steps / EPISODE) * EPISODE + 1
            return result

    monkeypatch.setattr(conformance, "make_trainer", lambda spec, backend: Miscounting(spec, lambda n: n))
    with pytest.raises(AssertionError, match="reported env_steps=51, the last episode says 50"):
        Suite().test_stops_after_env_steps("ippo")
