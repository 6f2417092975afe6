"""The core's own plugin: the built-in environments."""

from __future__ import annotations

from heron.core.hookspecs import hookimpl
from heron.envs.registry import EnvSpec
from heron.envs.thermostat import ProportionalController, thermostat_config


@hookimpl
def heron_envs() -> list[EnvSpec]:
    return [
        EnvSpec(
            "thermostat",
            thermostat_config,
            "rooms heated toward 22 C (num_rooms=2 is the tutorial's two-room building)",
            reference=ProportionalController,
        )
    ]
