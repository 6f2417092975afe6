"""The demo environments heron-core ships, registered through its own ``heron_envs`` plugin.

Each module builds an env_config and provides a reference controller:
:mod:`heron.demo_envs.thermostat` (rooms heated toward 22 C).
"""
