"""Drop the Ray 2.60 log lines that HERON's own calls cannot avoid and that ask nothing of the user.

Each filter matches one message on the one logger that emits it; everything else passes:

* ``ray.rllib.algorithms.algorithm_config``: "You are running PPO on the new API stack! This is the new
  default ...", logged by every ``config.validate()`` whatever the config says;
* ``ray._common.deprecation``: "`RLModule(config=[RLModuleConfig object])` has been deprecated", logged
  because ``RLModule.__init__`` itself builds the deprecated ``RLModuleConfig`` (no caller passes one);
* ``ray._private.worker``: "SIGTERM handler is not set because current thread is not the main thread",
  logged because :func:`heron.backends.rllib.cluster.ensure_ray` connects to a cluster from a thread
  (to bound the time it may take); HERON does not rely on Ray's SIGTERM handler;
* ``ray._private.authentication.authentication_token_setup``: "Token authentication is enabled for this
  Ray cluster. Set RAY_AUTH_MODE=disabled to opt out", logged by every new local instance: token
  authentication is Ray's secure default and asks nothing of the user. (Setting ``RAY_AUTH_MODE=token``
  instead would need a private call to refresh Ray's cached config.) Its warning that authentication is
  *disabled* passes.

The other start-up lines are avoided at their source: gputil (``log_sys_usage=False`` in the configs),
gymnasium's "Overriding environment" (:class:`~heron.adaptors.rllib_runner.HeronEnvRunner` unregisters
RLlib's env id before RLlib registers it again) and Ray's INFO lines (``logging_level=WARNING``).
"""

from __future__ import annotations

import logging

_DROPPED: dict[str, tuple[str, ...]] = {
    "ray.rllib.algorithms.algorithm_config": ("on the new API stack! This is the new default behavior",),
    "ray._common.deprecation": ("`RLModule(config=[RLModuleConfig object])` has been deprecated",),
    "ray._private.worker": ("SIGTERM handler is not set because current thread is not the main thread",),
    "ray._private.authentication.authentication_token_setup": (
        "Token authentication is enabled for this Ray cluster. Set RAY_AUTH_MODE=disabled to opt out",
    ),
}


class _DropMessages(logging.Filter):
    """Drops records whose message contains one of ``fragments``."""

    def __init__(self, fragments: tuple[str, ...]) -> None:
        super().__init__()
        self.fragments = fragments

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(fragment in message for fragment in self.fragments)


def quiet_ray_logs() -> None:
    """Install the filters (once per process)."""
    for name, fragments in _DROPPED.items():
        logger = logging.getLogger(name)
        if not any(isinstance(existing, _DropMessages) for existing in logger.filters):
            logger.addFilter(_DropMessages(fragments))
