"""Ray: an unreachable RAY_ADDRESS or busy CPUs are errors, not hangs; env runners spread over a two-node cluster.

The two-node cluster runs on this machine: ``ray start --head`` plus ``ray start --address`` (each
``--block``, in its own process group, stopped by that group at the end: ``ray stop`` would stop every
Ray instance of the user). Token authentication is on, with a token of the test's own
(``RAY_AUTH_TOKEN``); the driver is a subprocess, so the session's local Ray instance is not involved.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from heron.backends.rllib import trainer as trainer_module
from heron.backends.rllib.trainer import RLlibTrainer
from heron.core.errors import BackendError
from heron.training.experiment import ExperimentSpec

BIN = Path(sys.executable).parent
RAY = shutil.which("ray", path=str(BIN)) or shutil.which("ray")

DRIVER = """
import json, os, time, ray
from heron.backends.rllib.trainer import RLlibTrainer
from heron.training.experiment import ExperimentSpec

ray.init(address=os.environ["RAY_ADDRESS"], logging_level="error")
while sum(node["Alive"] for node in ray.nodes()) < 2:  # the worker node may still be joining
    time.sleep(0.5)
settings = {"num_env_runners": 2, "train_batch_size": 200, "minibatch_size": 100, "num_epochs": 1}
spec = ExperimentSpec(algorithm="ippo", seed=0, stop={"episodes": 1}, hyperparams=settings)
trainer = RLlibTrainer(spec)
result = trainer.train()
runner_nodes = trainer.algo.env_runner_group.foreach_env_runner(
    lambda runner: ray.get_runtime_context().get_node_id(), local_env_runner=False)
cluster_nodes = [node["NodeID"] for node in ray.nodes() if node["Alive"]]
print(json.dumps({"runner_nodes": runner_nodes, "cluster_nodes": cluster_nodes, "episodes": len(result.episodes),
                  "iterations": trainer.algo.iteration}))
trainer.close()
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _heron(*args: str, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "heron"), *args], capture_output=True, text=True, env=env, timeout=timeout)


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("127.0.0.1:{port}", r"^Error: no Ray cluster answers at 127\.0\.0\.1:\d+ \(RAY_ADDRESS, set by heron train "
                             r"--ray-address\): Connection refused; start one with `ray start --head --port=\d+`, or "
                             r"correct the address$"),
        ("no-port-here", r"^Error: Ray address 'no-port-here' \(RAY_ADDRESS, set by heron train --ray-address\) must "
                         r"be HOST:PORT"),
    ],
)
def test_an_unreachable_ray_address_is_a_one_line_error_before_any_run_folder(tmp_path, address, message):
    env = {**os.environ, "RAY_ADDRESS": address.format(port=_free_port())}
    done = _heron("train", "--backend", "rllib", "--algo", "ippo", "--episodes", "1", "--out", str(tmp_path / "runs"),
                  env=env, timeout=120)  # a hang fails here; the probe answers at once
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert re.match(message, line), line
    assert not (tmp_path / "runs").exists()


@pytest.fixture
def two_node_cluster() -> Iterator[dict[str, str]]:
    """A head and a worker node of one CPU each; yields the environment that reaches them."""
    port = _free_port()
    temp_dir = tempfile.mkdtemp(prefix="heron-ray-", dir="/tmp")  # short: Ray's socket paths live under it
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32),
           "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "0"}  # nothing to drain at the end: stop at once
    env.pop("RAY_ADDRESS", None)
    common = ["--num-cpus=1", "--object-store-memory=100000000", "--block"]
    nodes: list[subprocess.Popen] = []

    def start(*args: str) -> None:
        nodes.append(subprocess.Popen([RAY, "start", *args, *common], env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, start_new_session=True))

    try:
        start("--head", f"--port={port}", "--include-dashboard=false", f"--temp-dir={temp_dir}")
        head_up = f"import ray; ray.init(address='127.0.0.1:{port}', logging_level='error')"
        subprocess.run([sys.executable, "-c", head_up], env=env, check=True, timeout=120, capture_output=True)
        start(f"--address=127.0.0.1:{port}")  # the driver waits until it has joined
        yield {**env, "RAY_ADDRESS": f"127.0.0.1:{port}"}
        assert [node.poll() for node in nodes] == [None, None], "a node stopped during the test"
    finally:
        for node in reversed(nodes):  # the worker first, then the head; each takes its processes with it
            os.killpg(node.pid, signal.SIGTERM)
            node.wait(timeout=60)
        shutil.rmtree(temp_dir, ignore_errors=True)


@pytest.mark.skipif(RAY is None, reason="the `ray` command is not installed")
def test_env_runners_run_on_both_nodes_of_a_two_node_cluster(two_node_cluster):
    done = subprocess.run([sys.executable, "-c", DRIVER], capture_output=True, text=True, env=two_node_cluster,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(set(report["cluster_nodes"])) == 2
    assert sorted(report["runner_nodes"]) == sorted(report["cluster_nodes"])  # one runner on each node
    assert report["iterations"] == 1 and report["episodes"] >= 1


def test_env_runners_without_free_cpus_are_an_error_instead_of_a_hang(monkeypatch):
    settings = {"train_batch_size": 200, "minibatch_size": 100, "num_epochs": 1}
    holder = RLlibTrainer(ExperimentSpec(algorithm="ippo", hyperparams={**settings, "num_env_runners": 2}))
    waiting = RLlibTrainer(ExperimentSpec(algorithm="mappo", stop={"episodes": 4},
                                          hyperparams={**settings, "num_env_runners": 1}))
    monkeypatch.setattr(trainer_module, "_CPU_WAIT_S", 1.0)
    try:
        holder.policies()  # builds the algorithm: its two env runners hold both CPUs of the session's Ray
        with pytest.raises(BackendError, match=r"^hyperparams\.num_env_runners=1 needs 1 CPUs, but only 0 of the Ray "
                                               r"cluster's have been free for 1 s: another algorithm's env runners"):
            waiting.train()
    finally:
        holder.close()
    monkeypatch.setattr(trainer_module, "_CPU_WAIT_S", 60.0)  # Ray frees the closed runners' CPUs shortly
    try:
        assert len(waiting.train().episodes) == 4
    finally:
        waiting.close()
