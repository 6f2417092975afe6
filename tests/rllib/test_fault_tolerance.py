"""Two remote env runners: training survives one of them being killed, and the runner is replaced."""

from __future__ import annotations

import os
import signal
import threading
import time

from heron.backends.rllib.configs import mappo_config


def runner_pids(algo) -> list[int]:
    return algo.env_runner_group.foreach_env_runner(lambda runner: os.getpid(), local_env_runner=False)


def test_killing_an_env_runner_mid_training_does_not_stop_training(two_rooms):
    config = mappo_config(
        two_rooms, seed=0, hyperparams={"num_env_runners": 2, "train_batch_size": 400, "minibatch_size": 200}
    ).fault_tolerance(restart_failed_env_runners=True, max_num_env_runner_restarts=5,
                      delay_between_env_runner_restarts_s=0.0)
    algo = config.build_algo()
    try:
        first = algo.train()
        (victim, survivor) = runner_pids(algo)
        killer = threading.Timer(0.2, os.kill, (victim, signal.SIGKILL))
        killer.start()  # dies while the next iteration samples
        during = algo.train()
        killer.join()
        deadline = time.monotonic() + 60
        results = []
        group = algo.env_runner_group
        while time.monotonic() < deadline and (len(results) < 2 or group.num_healthy_remote_workers() < 2):
            results.append(algo.train())
        pids = runner_pids(algo)
    finally:
        algo.stop()
    assert first["env_runners"]["num_env_steps_sampled"] >= 400
    assert during["training_iteration"] == 2 and results[-1]["training_iteration"] == 2 + len(results)
    assert all(result["env_runners"]["num_env_steps_sampled"] >= 400 for result in results)  # training went on
    assert len(pids) == 2 and victim not in pids and survivor in pids  # the killed runner was restarted
