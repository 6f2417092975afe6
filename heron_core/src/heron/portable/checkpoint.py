"""Portable policy checkpoints: trained policies that heron-core alone (numpy) can load and run.

A checkpoint is a directory::

    <dir>/policy.json    format, version, each network's shapes and settings, agent -> network
    <dir>/policy.npz     the arrays (numpy's .npz, loaded without pickle)
    <dir>/...            anything else a backend writes (e.g. its state for resuming); ignored here

``policy.json``::

    {
      "format": "heron-policy-checkpoint",
      "format_version": 1,
      "policies": {
        "thermostat": {
          "layers": [[32, 1], [32, 32], [1, 32]],        # weight shapes (out, in); biases are (out,)
          "hidden_activation": "tanh",
          "observation_mode": "local",
          "obs_dim": 1,
          "obs_normalization": true,                     # arrays obs_mean / obs_std present
          "agent_ids": ["room_a", "room_b"],             # one-hot input order, or null
          "action": {"dim_c": 1, "low": [-1.0], "high": [1.0], "ncats": [],
                     "output_activation": "tanh", "scaling": "normalized"}
        }
      },
      "agents": {"room_a": "thermostat", "room_b": "thermostat"},
      "info": {"backend": "manual", "algorithm": "mappo", ...}    # free-form JSON
    }

and ``policy.npz`` holds ``<policy>/weight_<i>``, ``<policy>/bias_<i>`` and,
with normalisation, ``<policy>/obs_mean`` and ``<policy>/obs_std``. What the
settings mean is documented in :mod:`heron.portable.mlp`; a backend exports its
networks by building :class:`~heron.portable.mlp.MLPNetwork` objects.

Saving never leaves a half-written checkpoint at the path: the directory is
written under a temporary name beside the target, fsynced, and renamed into
place; the leftovers of an earlier killed save (``.<name>.tmp-*``,
``.<name>.old-*``) are removed first. One window remains when a checkpoint is
*replaced*: the old directory is renamed away (to ``.<name>.old-*``) just before
the new one is renamed in, and a process killed between those two renames
leaves nothing at the path (the previous checkpoint survives under the
``.old-`` name until the next save). Run folders therefore never replace a
checkpoint in place: :class:`heron.runs.checkpoints.CheckpointSlot` writes each
one to a new versioned directory and switches a pointer file, which has no such
window. Loading validates everything and raises
:class:`~heron.core.errors.CheckpointError` naming the file and the problem.

Example::

    save_checkpoint("policies/mappo", PolicyCheckpoint(networks, agents, info))
    policies = load_policies("policies/mappo")     # {agent_id: MLPPolicy}
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from heron.core.errors import CheckpointError, ConfigError, HeronError
from heron.portable.mlp import ActionHead, MLPNetwork, MLPPolicy
from heron.utils.files import fsync_path, fsync_tree, remove_path

__all__ = [
    "ARRAYS_FILE",
    "FORMAT",
    "FORMAT_VERSION",
    "METADATA_FILE",
    "PolicyCheckpoint",
    "check_matches_env",
    "load_checkpoint",
    "load_policies",
    "save_checkpoint",
]

FORMAT = "heron-policy-checkpoint"
FORMAT_VERSION = 1
METADATA_FILE = "policy.json"
ARRAYS_FILE = "policy.npz"
_TOP_KEYS = {"format", "format_version", "policies", "agents", "info"}
_POLICY_KEYS = {"layers", "hidden_activation", "observation_mode", "obs_dim", "obs_normalization", "agent_ids",
                "action"}


@dataclass(frozen=True, eq=False)
class PolicyCheckpoint:
    """Networks, which agent uses which, and free-form JSON ``info`` (backend, algorithm, ...)."""

    networks: Mapping[str, MLPNetwork]
    agents: Mapping[str, str]
    info: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.networks, Mapping) or not isinstance(self.agents, Mapping):
            raise ConfigError(
                "a checkpoint needs dicts {name: MLPNetwork} and {agent_id: name}, "
                f"got {type(self.networks).__name__} and {type(self.agents).__name__}"
            )
        if not self.networks or not self.agents:
            raise ConfigError("a checkpoint needs at least one network and one agent")
        for name, network in self.networks.items():
            if not isinstance(name, str) or not name:
                raise ConfigError(f"network name {name!r} must be a non-empty string")
            if not isinstance(network, MLPNetwork):
                raise ConfigError(f"network {name!r} must be an MLPNetwork, got {type(network).__name__}")
        for agent_id, name in self.agents.items():
            if not isinstance(name, str) or name not in self.networks:
                raise ConfigError(
                    f"agent {agent_id!r} uses network {name!r}, which is not among {sorted(self.networks)}"
                )
            self.networks[name].agent_index(agent_id)  # one-hot networks must know the agent

    def policies(self) -> dict[str, MLPPolicy]:
        """``{agent_id: MLPPolicy}`` for every agent of the checkpoint."""
        return {agent_id: MLPPolicy(self.networks[name], agent_id) for agent_id, name in self.agents.items()}


# ---------------------------------------------------------------- saving
def _write_directory_atomically(path: str | Path, fill: Callable[[Path], None]) -> Path:
    """Create directory ``path`` with what ``fill(tmp_dir)`` writes, fsynced, and rename it into place.

    A previous checkpoint at ``path`` is swapped out and removed (see the module
    docstring for the window this leaves). On any error (KeyboardInterrupt
    included) the temporary directory is removed and ``path`` is left as it was.
    A non-empty ``path`` that is not a checkpoint is never replaced.
    """
    path = Path(path)
    if path.exists() and (not path.is_dir() or (any(path.iterdir()) and not (path / METADATA_FILE).is_file())):
        raise CheckpointError(f"refusing to replace {path}: it exists and is not a HERON checkpoint directory")
    path.parent.mkdir(parents=True, exist_ok=True)
    for kind in ("tmp", "old"):  # leftovers of a save that was killed
        for leftover in path.parent.glob(f".{glob.escape(path.name)}.{kind}-*"):
            remove_path(leftover)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.tmp-"))
    old = None
    try:
        fill(tmp)
        fsync_tree(tmp)
        if path.exists():
            old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.old-"))
            os.replace(path, old)  # onto an empty directory: allowed
            try:
                os.replace(tmp, path)
            except BaseException:
                os.replace(old, path)
                raise
        else:
            os.replace(tmp, path)
        fsync_path(path.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)  # what remains is a leftover the next save removes
    return path


def _network_entry(network: MLPNetwork) -> dict[str, Any]:
    return {
        "layers": [list(weight.shape) for weight in network.weights],
        "hidden_activation": network.hidden_activation,
        "observation_mode": network.observation_mode,
        "obs_dim": network.obs_dim,
        "obs_normalization": network.obs_mean is not None,
        "agent_ids": list(network.agent_ids) if network.agent_ids is not None else None,
        "action": network.head.to_json(),
    }


def _network_arrays(name: str, network: MLPNetwork) -> dict[str, np.ndarray]:
    arrays = {}
    for index, (weight, bias) in enumerate(zip(network.weights, network.biases)):
        arrays[f"{name}/weight_{index}"] = weight
        arrays[f"{name}/bias_{index}"] = bias
    if network.obs_mean is not None:
        arrays[f"{name}/obs_mean"] = network.obs_mean
        arrays[f"{name}/obs_std"] = network.obs_std
    return arrays


def save_checkpoint(
    path: str | Path, checkpoint: PolicyCheckpoint, write_extra: Callable[[Path], None] | None = None
) -> Path:
    """Write ``checkpoint`` to directory ``path`` atomically and return the path.

    Args:
        path: the checkpoint directory (replaced if it holds a checkpoint).
        checkpoint: what to write.
        write_extra: writes a backend's own files into the (temporary) directory,
            so they appear atomically together with the policies.
    """
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "policies": {name: _network_entry(network) for name, network in checkpoint.networks.items()},
        "agents": dict(checkpoint.agents),
        "info": dict(checkpoint.info),
    }
    try:
        text = json.dumps(metadata, indent=2, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"checkpoint info must be plain JSON (no NaN): {exc}") from exc
    arrays: dict[str, np.ndarray] = {}
    for name, network in checkpoint.networks.items():
        arrays.update(_network_arrays(name, network))

    def fill(directory: Path) -> None:
        with open(directory / ARRAYS_FILE, "wb") as handle:
            np.savez(handle, **arrays)
        (directory / METADATA_FILE).write_text(text)
        if write_extra is not None:
            write_extra(directory)

    return _write_directory_atomically(path, fill)


# --------------------------------------------------------------- loading
def _read_metadata(path: Path) -> dict[str, Any]:
    if not path.is_dir():
        raise CheckpointError(f"no checkpoint at {path}: not an existing directory")
    file = path / METADATA_FILE
    if not file.is_file():
        raise CheckpointError(f"{path} is not a HERON checkpoint: {METADATA_FILE} is missing")
    try:
        metadata = json.loads(file.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{file} is corrupt: {exc}") from exc
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        found = metadata.get("format") if isinstance(metadata, dict) else type(metadata).__name__
        raise CheckpointError(f"{file}: format is {found!r}, expected {FORMAT!r}")
    version = metadata.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise CheckpointError(
            f"{file}: format_version {version!r} is not supported (this HERON reads versions 1 to {FORMAT_VERSION})"
        )
    if set(metadata) != _TOP_KEYS:
        raise CheckpointError(f"{file}: keys are {sorted(metadata)}, expected {sorted(_TOP_KEYS)}")
    for key in ("policies", "agents", "info"):
        if not isinstance(metadata[key], dict):
            raise CheckpointError(f"{file}: {key!r} must be an object, got {type(metadata[key]).__name__}")
    return metadata


def _read_arrays(file: Path) -> dict[str, np.ndarray]:
    if not file.is_file():
        raise CheckpointError(f"{file} is missing")
    try:
        with np.load(file, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"{file} is corrupt: {exc}") from exc


def _network_from(name: str, entry: Any, arrays: Mapping[str, np.ndarray], where: str) -> MLPNetwork:
    if not isinstance(entry, dict) or set(entry) != _POLICY_KEYS:
        keys = sorted(entry) if isinstance(entry, dict) else type(entry).__name__
        raise CheckpointError(f"{where}: policy {name!r} has keys {keys}, expected {sorted(_POLICY_KEYS)}")
    layers = entry["layers"]
    if not isinstance(layers, list) or not all(
        isinstance(s, list) and len(s) == 2 and all(type(n) is int for n in s) for s in layers
    ):
        raise CheckpointError(f"{where}: policy {name!r} 'layers' must be a list of [out, in] pairs, got {layers!r}")
    if not isinstance(entry["obs_normalization"], bool):
        raise CheckpointError(f"{where}: policy {name!r} 'obs_normalization' must be true or false")
    needed = [f"{name}/{kind}_{i}" for i in range(len(entry["layers"])) for kind in ("weight", "bias")]
    if entry["obs_normalization"]:
        needed += [f"{name}/obs_mean", f"{name}/obs_std"]
    missing = [key for key in needed if key not in arrays]
    if missing:
        raise CheckpointError(f"{where}: {ARRAYS_FILE} lacks array(s) {missing} of policy {name!r}")
    weights = [arrays[f"{name}/weight_{i}"] for i in range(len(entry["layers"]))]
    for index, (declared, weight) in enumerate(zip(entry["layers"], weights)):
        if list(weight.shape) != list(declared):
            raise CheckpointError(
                f"{where}: policy {name!r} layer {index} weight has shape {list(weight.shape)} in {ARRAYS_FILE}, "
                f"but {METADATA_FILE} declares {declared}"
            )
    try:
        return MLPNetwork(
            weights=tuple(weights),
            biases=tuple(arrays[f"{name}/bias_{i}"] for i in range(len(weights))),
            hidden_activation=entry["hidden_activation"],
            observation_mode=entry["observation_mode"],
            obs_dim=entry["obs_dim"],
            head=ActionHead.from_json(entry["action"]),
            obs_mean=arrays.get(f"{name}/obs_mean") if entry["obs_normalization"] else None,
            obs_std=arrays.get(f"{name}/obs_std") if entry["obs_normalization"] else None,
            agent_ids=entry["agent_ids"],
        )
    except (HeronError, TypeError) as exc:
        raise CheckpointError(f"{where}: policy {name!r}: {exc}") from exc


def load_checkpoint(path: str | Path) -> PolicyCheckpoint:
    """Read and validate the checkpoint in directory ``path``.

    Raises:
        CheckpointError: the directory or a file is missing, corrupt, of another
            format or version, or its arrays do not match its description.
    """
    path = Path(path)
    metadata = _read_metadata(path)
    arrays = _read_arrays(path / ARRAYS_FILE)
    where = f"checkpoint {path}"
    networks = {name: _network_from(name, entry, arrays, where) for name, entry in metadata["policies"].items()}
    described = {key for name, network in networks.items() for key in _network_arrays(name, network)}
    extra = sorted(set(arrays) - described)
    if extra:
        raise CheckpointError(f"{where}: {ARRAYS_FILE} holds array(s) {extra} that {METADATA_FILE} does not describe")
    try:
        return PolicyCheckpoint(networks, dict(metadata["agents"]), metadata["info"])
    except HeronError as exc:
        raise CheckpointError(f"{where}: {exc}") from exc


def load_policies(path: str | Path) -> dict[str, MLPPolicy]:
    """``{agent_id: MLPPolicy}`` of the checkpoint in directory ``path``."""
    return load_checkpoint(path).policies()


# ----------------------------------------------------------- env check
def check_matches_env(checkpoint: PolicyCheckpoint, env: Any, where: str = "checkpoint") -> None:
    """Raise :class:`CheckpointError` unless the checkpoint's agents, observations and actions fit ``env``.

    Args:
        checkpoint: the loaded checkpoint.
        env: a :class:`~heron.envs.DefaultHeronEnv`.
        where: how to name the checkpoint in the message.
    """
    problems = []
    acting, saved = list(env.possible_agents), list(checkpoint.agents)
    if set(acting) != set(saved):
        problems.append(f"it has agents {saved}, the env's acting agents are {acting}")
    for agent_id in (aid for aid in acting if aid in checkpoint.agents):
        network = checkpoint.networks[checkpoint.agents[agent_id]]
        size = env.observation_size(agent_id, network.observation_mode)
        if size != network.obs_dim:
            problems.append(
                f"agent {agent_id!r} observes {size} values in mode {network.observation_mode!r}, "
                f"the network expects {network.obs_dim}"
            )
        action, head = env.agent(agent_id).action, network.head
        same = (action.dim_c, tuple(action.ncats)) == (head.dim_c, head.ncats) and np.allclose(
            action.range[0], head.low
        ) and np.allclose(action.range[1], head.high)
        if not same:
            problems.append(
                f"agent {agent_id!r} has action dim_c={action.dim_c}, ncats={list(action.ncats)}, "
                f"range=({action.range[0].tolist()}, {action.range[1].tolist()}); the network produces "
                f"dim_c={head.dim_c}, ncats={list(head.ncats)}, range=({head.low.tolist()}, {head.high.tolist()})"
            )
    if problems:
        raise CheckpointError(f"{where} does not match env {env.env_id!r}: " + "; ".join(problems))
