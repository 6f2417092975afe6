"""heron-core's own plugin: the demo environments.

Their names are protected by distribution, not by call order: a name that heron-core (one of
:data:`~heron.training.plugins.BUILTIN_DISTRIBUTIONS`) offers is never given to a third-party plugin (see
:mod:`heron.training.plugins`). The hook is ``tryfirst`` only so that the demo environments come first in
``heron envs`` and :func:`~heron.training.env_specs`.
"""

from __future__ import annotations

from heron.demo_envs.microgrid import microgrid_config, microgrid_reference
from heron.demo_envs.sensor_network import sensor_network_config, sensor_network_reference
from heron.demo_envs.thermostat import thermostat_config, thermostat_reference
from heron.training.hookspecs import hookimpl
from heron.training.registry import EnvSpec


@hookimpl(tryfirst=True)
def heron_envs() -> list[EnvSpec]:
    return [
        EnvSpec(
            "thermostat",
            thermostat_config,
            "rooms heated toward 22 C (num_rooms=2 is the tutorial's two-room building)",
            reference=thermostat_reference,
        ),
        EnvSpec(
            "microgrid",
            microgrid_config,
            "feeders of batteries, PV and loads under a grid operator, with generators; one day, hourly",
            reference=microgrid_reference,
        ),
        EnvSpec(
            "sensor_network",
            sensor_network_config,
            "battery-powered nodes on a ring sense hidden moving targets and share detections with neighbours",
            reference=sensor_network_reference,
        ),
    ]
