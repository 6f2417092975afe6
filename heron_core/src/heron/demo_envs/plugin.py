"""heron-core's own plugin: the demo environments.

Its hook runs first (``tryfirst``), so a third-party plugin cannot take the names of the demo environments.
"""

from __future__ import annotations

from heron.demo_envs.thermostat import ProportionalController, thermostat_config
from heron.training.hookspecs import hookimpl
from heron.training.registry import EnvSpec


@hookimpl(tryfirst=True)
def heron_envs() -> list[EnvSpec]:
    return [
        EnvSpec(
            "thermostat",
            thermostat_config,
            "rooms heated toward 22 C (num_rooms=2 is the tutorial's two-room building)",
            reference=ProportionalController,
        )
    ]
