"""Start Ray, or connect to a Ray cluster, with a clear error instead of a hang.

Example::

    ensure_ray()                      # RAY_ADDRESS if set, else a local instance
    ensure_ray("10.0.0.5:6379")       # a cluster started with `ray start --head --port=6379`

Ray 2.60's own connect retries for many minutes when nothing answers at the address. Here the
address is first probed (a TCP connect), then ``ray.init`` runs in a helper thread that must finish
within :data:`CONNECT_TIMEOUT_S`; either failure is one :class:`~heron.core.errors.BackendError`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

import ray

from heron.backends.rllib._noise import quiet_ray_logs
from heron.core.errors import BackendError

__all__ = ["CONNECT_TIMEOUT_S", "ensure_ray"]

CONNECT_TIMEOUT_S = 30.0
"""The longest :func:`ensure_ray` waits for a cluster to answer."""
_PROBE_TIMEOUT_S = 10.0
_AUTH_MODE = "RAY_AUTH_MODE"


def ensure_ray(address: str | None = None) -> None:
    """Connect to Ray unless this process already is (the caller's own ``ray.init`` wins).

    Args:
        address: a cluster's ``HOST:PORT`` (``ray start --head`` prints it), ``"auto"`` (the cluster
            started on this machine), ``ray://HOST:PORT`` (Ray Client) or ``"local"``. Default: the
            ``RAY_ADDRESS`` environment variable (``heron train --ray-address`` sets it), and without
            it a new local instance (``include_dashboard=False``).

    Raises:
        BackendError: the address is malformed, nothing answers there, or the connection fails or
            takes longer than :data:`CONNECT_TIMEOUT_S`.
    """
    quiet_ray_logs()
    if ray.is_initialized():
        return
    where = "ensure_ray address" if address else "RAY_ADDRESS, set by heron train --ray-address"
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address in (None, "local"):
        ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
        return
    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    if address != "auto":
        _probe(address, where)
    _connect(address, where, deadline)


def _probe(address: str, where: str) -> None:
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit():
        raise BackendError(
            f"Ray address {address!r} ({where}) must be HOST:PORT (e.g. 10.0.0.5:6379), ray://HOST:PORT, 'auto' "
            "or 'local'"
        )
    try:
        with socket.create_connection((host, int(port)), timeout=_PROBE_TIMEOUT_S):
            pass
    except OSError as exc:
        start = "" if address.startswith("ray://") else f"start one with `ray start --head --port={port}`, or "
        raise BackendError(
            f"no Ray cluster answers at {address} ({where}): {exc.strerror or exc}; {start}correct the address"
        ) from exc


def _connect(address: str, where: str, deadline: float) -> None:
    outcome: dict[str, BaseException] = {}

    def connect() -> None:
        try:
            ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
        except BaseException as exc:  # handed to the calling thread below
            outcome["error"] = exc

    thread = threading.Thread(target=connect, name="heron-ray-connect", daemon=True)
    thread.start()
    thread.join(max(0.0, deadline - time.monotonic()))
    if address == "auto":
        auth = ""
    elif os.environ.get(_AUTH_MODE) == "token":
        auth = "; with token authentication this machine needs the cluster's token (RAY_AUTH_TOKEN, ~/.ray/auth_token)"
    else:
        auth = f"; a cluster with token authentication (Ray's default) also needs {_AUTH_MODE}=token here"
    if thread.is_alive():
        raise BackendError(
            f"the Ray cluster at {address} ({where}) did not answer within {CONNECT_TIMEOUT_S:.0f} s (is it the port "
            f"`ray start --head` printed?){auth}"
        )
    if "error" in outcome:
        error = outcome["error"]
        first_line = (str(error).strip().splitlines() or [""])[0]
        raise BackendError(
            f"cannot connect to the Ray cluster at {address} ({where}): {type(error).__name__}: {first_line}{auth}"
        ) from error
