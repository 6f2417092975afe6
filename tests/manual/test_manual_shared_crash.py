"""`heron train` of mappo with ``policy_sharing=all`` on the microgrid, killed with SIGKILL mid-training: evaluate
and resume work, and the resumed run equals an uninterrupted one bitwise."""

from __future__ import annotations

from .test_crash_kill import kill_heron_train
from .test_resume import assert_same_run, heron, metrics_rows, progress_of, uninterrupted

SHARED = ["--algo", "mappo", "--env", "microgrid", "--env-arg", "max_steps=8", "--set", "policy_sharing=all",
          "--episodes", "24", "--checkpoint-every", "8"]


def test_shared_policy_run_killed_mid_training_resumes_as_an_uninterrupted_run(tmp_path_factory, tmp_path):
    reference = uninterrupted(tmp_path_factory, SHARED)
    run_dir = kill_heron_train(tmp_path, "_iteration", 6, SHARED)  # 5 updates of 4 episodes: saves at 8, 16
    assert len(metrics_rows(run_dir)) == 1 + 20 and progress_of(run_dir, "mappo")["episodes"] == 16
    evaluated = heron("evaluate", str(run_dir), "--episodes", "2")
    assert evaluated.exit_code == 0 and "mappo" in evaluated.output

    resumed = heron("train", "--resume", str(run_dir))
    assert resumed.exit_code == 0 and "mappo: continuing from episode 16" in resumed.output
    assert_same_run(run_dir, reference, algorithms=("mappo",))
