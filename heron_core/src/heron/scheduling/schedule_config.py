"""Per-agent timing of event-driven runs: :class:`ScheduleConfig` and :class:`JitterType`.

Times are in the env's time unit: one synchronous ``env.step`` is one unit
(``env.timestamp`` counts steps), so ``tick_interval=1.0`` means "acts once
per training step".

* ``tick_interval``: time between two ticks of the agent.
* ``obs_delay``: a measurement taken at a tick reaches the policy this much later.
* ``act_delay``: the policy's decision takes effect this much later.
* ``msg_delay``: a message the agent sends to its subordinates (the
  subordinate actions its protocol splits off) arrives this much later.

Jitter multiplies every sampled interval and delay by a random factor:
``1 + U(-r, r)`` (uniform) or ``1 + N(0, r)`` (gaussian) for
``jitter_ratio=r``. A jittered delay is never below ``min_delay`` (nor
negative); a jittered tick interval is never below ``MIN_TICK_FACTOR`` times
the nominal interval, so time always advances.

An event-driven run draws each agent's jitter from streams of its own (see
:mod:`heron.scheduling.runner`). ``get_tick_interval()`` and the other
``get_*`` methods sample from the config's own generator instead (seeded by
``seed``), to look at the distribution; they never change a run.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from heron.core.errors import ConfigError
from heron.utils.validation import check_number

__all__ = [
    "DEFAULT_COORDINATOR_AGENT_SCHEDULE_CONFIG",
    "DEFAULT_FIELD_AGENT_SCHEDULE_CONFIG",
    "DEFAULT_SYSTEM_AGENT_SCHEDULE_CONFIG",
    "MIN_TICK_FACTOR",
    "JitterType",
    "ScheduleConfig",
]

MIN_TICK_FACTOR = 0.1


class JitterType(str, enum.Enum):
    """How intervals and delays vary from their nominal values."""

    NONE = "none"
    UNIFORM = "uniform"
    GAUSSIAN = "gaussian"


_DELAYS = ("obs_delay", "act_delay", "msg_delay")
_BOUNDS: dict[str, dict[str, Any]] = {  # field -> check_number bounds
    "tick_interval": {"minimum": 0, "exclusive_minimum": True},
    **{name: {"minimum": 0} for name in (*_DELAYS, "min_delay")},
    "jitter_ratio": {"minimum": 0, "maximum": 1},
}


@dataclass(frozen=True)
class ScheduleConfig:
    """Timing of one agent in event-driven runs (see the module docs for each field).

    Args:
        tick_interval: time between ticks (> 0).
        obs_delay: observation latency (>= 0).
        act_delay: actuation latency (>= 0).
        msg_delay: latency of messages to subordinates (>= 0).
        jitter_type: ``JitterType`` or its name (``"none"``, ``"uniform"``, ``"gaussian"``).
        jitter_ratio: relative spread of the jitter, in [0, 1]; must be 0 without jitter
            (default: 0.1 with jitter, 0 without).
        min_delay: lower bound of a jittered delay; at most every nominal delay.
        seed: seeds this agent's jitter when the run gives no ``jitter_seed`` (a non-negative integer).
    """

    tick_interval: float = 1.0
    obs_delay: float = 0.0
    act_delay: float = 0.0
    msg_delay: float = 0.0
    jitter_type: JitterType = JitterType.NONE
    jitter_ratio: float | None = None
    min_delay: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "jitter_type", JitterType(self.jitter_type))
        except ValueError:
            raise ConfigError(
                f"ScheduleConfig.jitter_type must be one of {[j.value for j in JitterType]}, got {self.jitter_type!r}"
            ) from None
        if self.jitter_ratio is None:
            object.__setattr__(self, "jitter_ratio", 0.0 if self.jitter_type is JitterType.NONE else 0.1)
        for name, bounds in _BOUNDS.items():
            object.__setattr__(self, name, check_number(getattr(self, name), f"ScheduleConfig.{name}", **bounds))
        if self.jitter_type is JitterType.NONE and self.jitter_ratio != 0.0:
            raise ConfigError(
                f"ScheduleConfig.jitter_ratio is {self.jitter_ratio} but jitter_type is 'none'; "
                "choose 'uniform' or 'gaussian' (ScheduleConfig.with_jitter) or set jitter_ratio=0"
            )
        too_small = [name for name in _DELAYS if getattr(self, name) < self.min_delay]
        if too_small:
            raise ConfigError(
                f"ScheduleConfig.min_delay={self.min_delay} exceeds {too_small}; "
                "min_delay bounds jittered delays from below and must not exceed the nominal delays"
            )
        if self.seed is not None:
            object.__setattr__(self, "seed", check_number(self.seed, "ScheduleConfig.seed", minimum=0, integer=True))

    # ----------------------------------------------------------- builders
    @classmethod
    def deterministic(
        cls, tick_interval: float = 1.0, obs_delay: float = 0.0, act_delay: float = 0.0, msg_delay: float = 0.0
    ) -> ScheduleConfig:
        """Fixed intervals and delays, no jitter."""
        return cls(tick_interval, obs_delay, act_delay, msg_delay)

    @classmethod
    def with_jitter(
        cls,
        tick_interval: float = 1.0,
        obs_delay: float = 0.0,
        act_delay: float = 0.0,
        msg_delay: float = 0.0,
        jitter_type: JitterType | str = JitterType.GAUSSIAN,
        jitter_ratio: float = 0.1,
        min_delay: float = 0.0,
        seed: int | None = None,
    ) -> ScheduleConfig:
        """Intervals and delays that vary by ``jitter_ratio`` (gaussian by default)."""
        return cls(tick_interval, obs_delay, act_delay, msg_delay, jitter_type, jitter_ratio, min_delay, seed)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "schedule_config") -> ScheduleConfig:
        """Build from ``{field: value}`` (unknown keys are an error naming ``where``)."""
        allowed = [field.name for field in dataclasses.fields(cls)]
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {unknown}; allowed keys are {allowed}")
        try:
            return cls(**data)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None

    def replace(self, **changes: Any) -> ScheduleConfig:
        """A copy with ``changes`` applied (validated like a new config)."""
        allowed = [field.name for field in dataclasses.fields(self)]
        unknown = sorted(set(changes) - set(allowed))
        if unknown:
            raise ConfigError(f"ScheduleConfig has no field(s) {unknown}; fields are {allowed}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """``{field: value}`` with the jitter type as its name (JSON-ready)."""
        data = dataclasses.asdict(self)
        data["jitter_type"] = self.jitter_type.value
        return data

    # ------------------------------------------------------------ sampling
    @property
    def jittered(self) -> bool:
        """Whether sampled intervals and delays are random."""
        return self.jitter_type is not JitterType.NONE and self.jitter_ratio > 0.0

    def _factor(self, rng: np.random.Generator) -> float:
        if self.jitter_type is JitterType.UNIFORM:
            return 1.0 + float(rng.uniform(-self.jitter_ratio, self.jitter_ratio))
        return 1.0 + float(rng.normal(0.0, self.jitter_ratio))

    def sample_tick_interval(self, rng: np.random.Generator | None) -> float:
        """The time to the next tick (``rng`` is only used with jitter)."""
        if rng is None or not self.jittered:
            return self.tick_interval
        return self.tick_interval * max(self._factor(rng), MIN_TICK_FACTOR)

    def sample_delay(self, nominal: float, rng: np.random.Generator | None) -> float:
        """A jittered ``nominal`` delay, never below ``min_delay`` (``rng`` is only used with jitter)."""
        if rng is None or not self.jittered or nominal == 0.0:
            return nominal
        return max(nominal * self._factor(rng), self.min_delay)

    def _own_rng(self) -> np.random.Generator | None:
        """The config's own generator (made from ``seed`` on first use; none without jitter)."""
        if not self.jittered:
            return None
        rng = self.__dict__.get("_rng")
        if rng is None:
            rng = np.random.default_rng(self.seed)
            object.__setattr__(self, "_rng", rng)
        return rng

    def get_tick_interval(self) -> float:
        """A sample of the time to the next tick, from the config's own generator (see the module docs)."""
        return self.sample_tick_interval(self._own_rng())

    def get_obs_delay(self) -> float:
        """A sample of the observation delay, from the config's own generator."""
        return self.sample_delay(self.obs_delay, self._own_rng())

    def get_act_delay(self) -> float:
        """A sample of the action delay, from the config's own generator."""
        return self.sample_delay(self.act_delay, self._own_rng())

    def get_msg_delay(self) -> float:
        """A sample of the message delay, from the config's own generator."""
        return self.sample_delay(self.msg_delay, self._own_rng())


#: Defaults of the three agent classes (``FieldAgent``, ``CoordinatorAgent``,
#: ``SystemAgent``): field devices act every time unit, coordinators every two,
#: the system operator every four; no delays, no jitter. A time unit is one
#: training step, so a coordinator re-decides 25 times in a 50-step episode
#: (upstream HERON's 60 and 300 would let it decide once, at t=0); pass
#: ``ScheduleConfig(tick_interval=60.0)`` to an agent for upstream's rate.
DEFAULT_FIELD_AGENT_SCHEDULE_CONFIG = ScheduleConfig(tick_interval=1.0)
DEFAULT_COORDINATOR_AGENT_SCHEDULE_CONFIG = ScheduleConfig(tick_interval=2.0)
DEFAULT_SYSTEM_AGENT_SCHEDULE_CONFIG = ScheduleConfig(tick_interval=4.0)


def coerce_schedule_config(value: Any, where: str) -> ScheduleConfig:
    """A ScheduleConfig from a ScheduleConfig or a ``{field: value}`` dict (anything else is an error)."""
    if isinstance(value, ScheduleConfig):
        return value
    if isinstance(value, Mapping):
        return ScheduleConfig.from_dict(value, where)
    raise ConfigError(f"{where} must be a ScheduleConfig or a dict of its fields, got {value!r}")
