"""The demo environments heron-core ships, registered through its own ``heron_envs`` plugin (docs/environments.md).

Each module builds an env_config and provides a rule-based reference controller:
:mod:`heron.demo_envs.thermostat` (rooms heated toward 22 C), :mod:`heron.demo_envs.microgrid` (feeders of
batteries, PV and loads, and generators, under a grid operator) and :mod:`heron.demo_envs.sensor_network`
(battery-powered nodes on a ring sharing detections of hidden targets).
"""
