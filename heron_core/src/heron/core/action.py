"""Actions: continuous components with ranges and/or discrete heads.

An :class:`Action` is both the specification of what an agent can do
(``set_specs``) and the value it currently does (``c`` and ``d``). Its flat
vector form is the continuous values followed by the discrete indices.
Continuous values are clipped to their range and discrete indices to
``[0, n)``, as an actuator saturates; a value of the wrong length, a NaN, an
infinity, a non-integer index, a string, a boolean, a complex number, a 2-D
array, or a mixed action given without one of its parts is an error (see
:meth:`Action.set_values`).
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from heron.core.errors import ActionError, ConfigError

__all__ = ["Action"]

_FLOAT64 = np.dtype(np.float64)
_KINDS = {"b": "is a boolean", "U": "is a string", "S": "is a string (bytes)", "c": "is complex"}
"""Why an array of a numpy dtype kind is not an action value (numbers arriving as text or flags are bugs)."""
_SEQUENCES = (list, tuple)
_BOOLEANS = frozenset({bool, np.bool_})


def _categories(space: gym.spaces.Discrete | gym.spaces.MultiDiscrete, owner: str) -> list[int]:
    """Categories per head of a discrete space whose indices start at 0."""
    if isinstance(space, gym.spaces.Discrete):
        starts, counts = [int(space.start)], [int(space.n)]
    else:
        starts, counts = space.start.ravel().tolist(), space.nvec.ravel().tolist()
    if any(starts):
        raise ConfigError(f"{owner}: cannot build an Action from {space}: its indices must start at 0")
    return [int(n) for n in counts]


def _count(value: Any, name: str) -> int:
    """``value`` as an int after checking it is a non-negative integer (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ConfigError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


class Action:
    """An agent's action specification and current value.

    Example::

        action = Action()
        action.set_specs(dim_c=1, range=(np.array([-1.0]), np.array([1.0])))
        action.set_values(np.array([0.3]))
        action.c  # array([0.3])
        action.space  # Box(-1.0, 1.0, (1,), float32)
    """

    def __init__(self, owner: str = "action") -> None:
        self.owner = owner
        self.dim_c = 0
        self.dim_d = 0
        self.ncats: tuple[int, ...] = ()
        self._highest = np.zeros(0, dtype=np.int64)
        self._set_range(np.zeros(0), np.zeros(0))
        self.c = np.zeros(0)
        self.d = np.zeros(0, dtype=np.int64)
        self._rng: np.random.Generator | None = None
        self._space: gym.Space | None = None

    # ----------------------------------------------------------------- specs
    def set_specs(
        self,
        dim_c: int = 0,
        dim_d: int | None = None,
        ncats: int | Sequence[int] | None = None,
        range: tuple[Any, Any] | None = None,
    ) -> Action:
        """Declare the action's shape.

        Args:
            dim_c: number of continuous components.
            dim_d: number of discrete heads (defaults to the number of ``ncats``).
            ncats: categories per discrete head (one int applies to every head).
            range: ``(low, high)`` arrays of length ``dim_c``; required when ``dim_c > 0``.
        """
        dim_c = _count(dim_c, f"{self.owner}: dim_c")
        if dim_d is not None:
            dim_d = _count(dim_d, f"{self.owner}: dim_d")
        if isinstance(ncats, (int, np.integer)):
            ncats = [ncats] * (1 if dim_d is None else dim_d)
        if isinstance(ncats, str) or not isinstance(ncats, (Sequence, np.ndarray, type(None))):
            raise ConfigError(f"{self.owner}: ncats must be an integer or a list of integers, got {ncats!r}")
        ncats = tuple(_count(n, f"{self.owner}: ncats entry") for n in (() if ncats is None else ncats))
        dim_d = len(ncats) if dim_d is None else dim_d
        if dim_d != len(ncats):
            raise ConfigError(f"{self.owner}: dim_d={dim_d} but {len(ncats)} ncats were given")
        if any(n < 1 for n in ncats):
            raise ConfigError(f"{self.owner}: every discrete head needs >= 1 category, got {ncats}")
        if dim_c > 0:
            low, high = self._range_arrays(range, dim_c)
            if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high)) and np.all(low < high)):
                raise ConfigError(
                    f"{self.owner}: range must be finite with low < high, got low={low}, high={high}"
                )
        else:
            low = high = np.zeros(0)
        self.dim_c, self.dim_d, self.ncats = dim_c, dim_d, ncats
        self._set_range(low, high)
        self._highest = np.array(ncats, dtype=np.int64) - 1
        self._space = None
        self.reset()
        return self

    def _range_arrays(self, range: tuple[Any, Any] | None, dim_c: int) -> tuple[np.ndarray, np.ndarray]:
        """``(low, high)`` of ``range`` as float arrays of length ``dim_c``."""
        if range is None:
            raise ConfigError(f"{self.owner}: a continuous action needs range=(low, high)")
        try:
            low, high = (np.broadcast_to(np.asarray(bound, dtype=np.float64), (dim_c,)).copy() for bound in range)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{self.owner}: range must be (low, high), each a number or dim_c={dim_c} numbers, got {range!r}"
            ) from None
        return low, high

    @property
    def range(self) -> tuple[np.ndarray, np.ndarray]:
        """``(low, high)`` of the continuous components (read-only arrays; change them with :meth:`set_specs`)."""
        return self._range

    def _set_range(self, low: np.ndarray, high: np.ndarray) -> None:
        low.setflags(write=False)
        high.setflags(write=False)
        self._range = (low, high)
        self._bounds = list(zip(low.tolist(), high.tolist()))  # plain floats: the per-step check stays in Python

    @property
    def size(self) -> int:
        """Length of the flat vector form (continuous then discrete)."""
        return self.dim_c + self.dim_d

    def is_empty(self) -> bool:
        """True for an agent that has nothing to act on."""
        return self.size == 0

    def is_valid(self) -> bool:
        """True when the action has at least one component (upstream's name for ``not is_empty()``)."""
        return self.size > 0

    # ---------------------------------------------------------------- values
    def set_values(self, values: Any = None, *, c: Any = None, d: Any = None) -> Action:
        """Set the current value.

        ``values`` may be another :class:`Action`, a flat vector (continuous then
        discrete), a ``{"c": ..., "d": ...}`` mapping, or a gymnasium sample of
        :attr:`space`. Alternatively pass ``c=`` and/or ``d=``. A mixed action
        needs both parts (upstream HERON kept the previous ``d`` when only ``c``
        came).

        Accepted as numbers: Python and numpy ints and floats of any width
        (``float32`` from a network), 0-d arrays, and flat lists, tuples or
        arrays of them, of exactly the right length; a discrete index may be an
        integer-valued float (``2.0``), as flat vectors are float. Refused with
        an :class:`ActionError` naming the agent, what was expected and what
        came: strings (``"0.5"``: a number that arrives as text is a bug
        upstream, not something to parse), booleans (``True``, or lists holding
        them: a flag is not an actuator value), complex numbers (even with a
        zero imaginary part), arrays of two or more dimensions (a batch: no
        row is picked for you), and anything else that is not a number.
        """
        if values is not None:
            if c is not None or d is not None:
                raise ActionError(f"{self.owner}: pass either values or c=/d=, not both")
            if type(values) is np.ndarray or not isinstance(values, (Action, Mapping)):
                flat = self._as_array(values, "action", self.size)
                if not self.dim_d:
                    self.c = self._continuous(flat, "action")
                elif not self.dim_c:
                    self.d = self._as_discrete(flat, "action")
                else:
                    c = self._continuous(flat[: self.dim_c], "action")
                    self.d = self._as_discrete(flat[self.dim_c :], "action")
                    self.c = c
                return self
            if isinstance(values, Action):
                c, d = values.c, values.d
            else:
                unknown = set(values) - {"c", "d"}
                if unknown:
                    raise ActionError(f"{self.owner}: unknown action keys {sorted(unknown)}; expected 'c' and 'd'")
                c, d = values.get("c"), values.get("d")
        if c is None and d is None:
            raise ActionError(f"{self.owner}: no action value given")
        if self.dim_c and self.dim_d and (c is None or d is None):
            given, missing = ("c", "d") if d is None else ("d", "c")
            raise ActionError(
                f"{self.owner}: a mixed action needs both c ({self.dim_c} value(s)) and d ({self.dim_d} index(es)); "
                f"got only {given}. Upstream HERON kept the previous {missing}: pass it too, e.g. "
                "set_values(c=..., d=...)"
            )
        self._set_parts(c, d)
        return self

    def _set_parts(self, c: Any, d: Any) -> None:
        """Check the parts given (``None``: keep that part), then store them: an error changes nothing."""
        new_c, new_d = self.c, self.d
        if c is not None:
            new_c = self._continuous(self._as_array(c, "continuous action", self.dim_c), "continuous action")
        if d is not None:
            new_d = self._as_discrete(self._as_array(d, "discrete action", self.dim_d), "discrete action")
        self.c, self.d = new_c, new_d

    def _continuous(self, values: np.ndarray, what: str) -> np.ndarray:
        """A copy of ``values`` clipped to the range; NaN or infinity is an error."""
        items = values.tolist()
        for (low, high), value in zip(self._bounds, items):
            if not low <= value <= high:  # also true for NaN
                break
        else:
            return values.copy()  # within range (so finite), the usual case: no clipping needed
        if not all(map(math.isfinite, items)):
            raise self._non_finite(what, values)
        return np.minimum(np.maximum(values, self._range[0]), self._range[1])

    def _as_array(self, value: Any, what: str, expected: int) -> np.ndarray:
        """``value`` as a 1-D float array of ``expected`` values (not a copy when it already is one)."""
        if type(value) is np.ndarray and value.dtype is _FLOAT64 and value.ndim == 1:
            array = value  # the usual case (policies' output): no conversion, no check of the element type
        else:
            array = self._numbers(value, what)
        if array.size != expected:
            layout = ""
            if what == "action" and self.dim_c and self.dim_d:
                layout = f" (dim_c={self.dim_c} continuous values then dim_d={self.dim_d} discrete indices)"
            raise ActionError(
                f"{self.owner}: {what} has {array.size} value(s), expected {expected}{layout} "
                f"(received {np.array2string(array, threshold=8)})"
            )
        return array

    def _numbers(self, value: Any, what: str) -> np.ndarray:
        """``value`` (a number, or a 0-d or 1-D array or list of numbers) as a 1-D float array; else an ActionError."""
        try:
            array = np.asarray(value)
        except (TypeError, ValueError):  # ragged nested lists and the like
            raise self._not_numbers(value, None, what) from None
        if (
            array.dtype.kind not in "fiu"
            or array.ndim > 1
            or (type(value) in _SEQUENCES and not _BOOLEANS.isdisjoint(map(type, value)))
        ):
            raise self._not_numbers(value, array, what)
        return array.astype(np.float64, copy=False).reshape(-1)

    def _not_numbers(self, value: Any, array: np.ndarray | None, what: str) -> ActionError:
        """The error for a ``value`` that :meth:`_numbers` refuses (``array``: what numpy made of it)."""
        if array is not None and array.dtype.kind in "fiu":
            if array.ndim > 1:
                return ActionError(
                    f"{self.owner}: {what} has shape {array.shape}; expected a number or a flat vector: "
                    f"{self._expected(what)} (received {np.array2string(array, threshold=8)})"
                )
            problem = "holds booleans"
        else:
            problem = _KINDS.get(array.dtype.kind, "is not numeric") if array is not None else "is not numeric"
        return ActionError(f"{self.owner}: {what} {reprlib.repr(value)} {problem}; expected {self._expected(what)}")

    def _expected(self, what: str) -> str:
        """What ``what`` (``"action"``, ``"continuous action"``, ...) must hold, for error messages."""
        low, high = self._range
        bounds = f"[{low[0]:g}, {high[0]:g}]" if self.dim_c == 1 else f"low={low.tolist()}, high={high.tolist()}"
        continuous = f"{self.dim_c} number(s) in {bounds}"
        if what.startswith("normalized"):
            return f"{self.dim_c} number(s) in [-1, 1]"
        discrete = f"{self.dim_d} integer index(es) with ncats={list(self.ncats)}"
        if what == "continuous action" or not self.dim_d:
            return continuous
        if what == "discrete action" or not self.dim_c:
            return discrete
        return f"{continuous} then {discrete}, or {{'c': ..., 'd': ...}}"

    def _non_finite(self, what: str, array: np.ndarray) -> ActionError:
        return ActionError(f"{self.owner}: {what} contains NaN or infinity: {array}")

    def _as_discrete(self, array: np.ndarray, what: str) -> np.ndarray:
        """Integer indices of ``array``, clipped to ``[0, n)``; NaN, infinity or a fraction is an error."""
        if not all(map(math.isfinite, array.tolist())):
            raise self._non_finite(what, array)
        indices = array.astype(np.int64)
        if np.any(indices != array):
            raise ActionError(f"{self.owner}: {what} {array} must be integer indices (ncats={list(self.ncats)})")
        return np.minimum(np.maximum(indices, 0), self._highest)

    def vector(self) -> np.ndarray:
        """Flat float vector: continuous values then discrete indices."""
        return np.concatenate([self.c, self.d.astype(np.float64)])

    def reset(self, values: Any = None, *, c: Any = None, d: Any = None) -> Action:
        """Set the neutral value (the middle of each range, discrete index 0), then any of ``values``, ``c``, ``d``.

        ``values`` is a whole action as :meth:`set_values` takes it; ``c`` or
        ``d`` alone replaces only that part of the neutral value. Returns ``self``.
        """
        low, high = self._range
        self.c = (low + high) / 2.0
        self.d = np.zeros(self.dim_d, dtype=np.int64)
        if values is not None:
            return self.set_values(values, c=c, d=d)
        self._set_parts(c, d)
        return self

    def seed(self, rng: np.random.Generator) -> None:
        """Use ``rng`` for :meth:`sample` (the env does this on reset)."""
        self._rng = rng

    def sample(self, rng: np.random.Generator | int | None = None, *, seed: int | None = None) -> Action:
        """Set a uniformly random value and return ``self``.

        Args:
            rng: the generator to draw from (default: the action's own, seeded by
                the env on reset). An int is taken as ``seed`` (upstream's ``sample(0)``).
            seed: restart the action's own generator from this seed, as upstream's
                ``sample(seed=...)`` does: later ``sample()`` calls continue that stream.
        """
        if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
            if seed is not None:
                raise ConfigError(f"{self.owner}: sample() got a seed twice ({rng!r} and seed={seed!r})")
            rng, seed = None, rng
        if seed is not None:
            if rng is not None:
                raise ConfigError(f"{self.owner}: sample() takes rng or seed, not both")
            self._rng = np.random.default_rng(_count(seed, f"{self.owner}: sample seed"))
        if rng is None:
            if self._rng is None:
                self._rng = np.random.default_rng()
            rng = self._rng
        elif not isinstance(rng, np.random.Generator):
            raise ConfigError(f"{self.owner}: sample() needs a numpy Generator or an int seed, got {rng!r}")
        low, high = self.range
        self.c = rng.uniform(low, high) if self.dim_c else np.zeros(0)
        self.d = np.array([rng.integers(n) for n in self.ncats], dtype=np.int64)
        return self

    # ------------------------------------------------------- normalization
    def scale(self) -> np.ndarray:
        """The continuous values mapped from their range to ``[-1, 1]`` (a new array)."""
        low, high = self._range
        return 2.0 * (self.c - low) / (high - low) - 1.0

    def unscale(self, normalized: Any) -> np.ndarray:
        """Set the continuous values from ``normalized`` values in ``[-1, 1]`` and return them.

        Values outside ``[-1, 1]`` are clipped to the range, as :meth:`set_values` does.
        """
        x = self._as_array(normalized, "normalized continuous action", self.dim_c)
        if not all(map(math.isfinite, x.tolist())):
            raise self._non_finite("normalized continuous action", x)
        low, high = self._range
        self.c = self._continuous(low + (x + 1.0) / 2.0 * (high - low), "continuous action")
        return self.c

    def scalar(self, index: int = 0) -> float:
        """The continuous value at ``index``."""
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < self.dim_c:
            raise ActionError(f"{self.owner}: scalar({index!r}) needs an index in [0, dim_c={self.dim_c})")
        return float(self.c[index])

    def copy(self) -> Action:
        """An independent copy (values and specs)."""
        other = Action(self.owner)
        other.dim_c, other.dim_d, other.ncats = self.dim_c, self.dim_d, self.ncats
        other._highest = self._highest
        other._set_range(*self._range)
        other.c, other.d = self.c.copy(), self.d.copy()
        other._rng = self._rng
        return other

    # ------------------------------------------------------------ gymnasium
    @property
    def space(self) -> gym.Space:
        """The gymnasium space of this action (the same object until :meth:`set_specs` changes it).

        ``Box`` for continuous only, ``Discrete``/``MultiDiscrete`` for discrete
        only, and ``Dict({"c": Box, "d": Discrete or MultiDiscrete})`` for mixed actions.
        """
        if self._space is None:
            if self.is_empty():
                raise ConfigError(f"{self.owner}: an empty action has no space")
            box = gym.spaces.Box(self.range[0].astype(np.float32), self.range[1].astype(np.float32), dtype=np.float32)
            if self.dim_d == 1:
                disc: gym.Space = gym.spaces.Discrete(self.ncats[0])
            else:
                disc = gym.spaces.MultiDiscrete(list(self.ncats))
            if self.dim_d == 0:
                self._space = box
            elif self.dim_c == 0:
                self._space = disc
            else:
                self._space = gym.spaces.Dict({"c": box, "d": disc})
        return self._space

    def to_space_value(self) -> Any:
        """The current value as a member of :attr:`space`."""
        c = self.c.astype(np.float32)
        d = int(self.d[0]) if self.dim_d == 1 else self.d.copy()
        if self.dim_d == 0:
            return c
        if self.dim_c == 0:
            return d
        return {"c": c, "d": d}

    @classmethod
    def from_space(cls, space: gym.Space, owner: str = "action") -> Action:
        """Build the action specification whose :attr:`space` is ``space``."""
        action = cls(owner)
        if isinstance(space, gym.spaces.Box):
            action.set_specs(dim_c=int(np.prod(space.shape)), range=(space.low.ravel(), space.high.ravel()))
        elif isinstance(space, (gym.spaces.Discrete, gym.spaces.MultiDiscrete)):
            action.set_specs(ncats=_categories(space, owner))
        elif (
            isinstance(space, gym.spaces.Dict)
            and set(space.spaces) == {"c", "d"}
            and isinstance(space["c"], gym.spaces.Box)
            and isinstance(space["d"], (gym.spaces.Discrete, gym.spaces.MultiDiscrete))
        ):
            box = space["c"]
            action.set_specs(
                dim_c=int(np.prod(box.shape)),
                ncats=_categories(space["d"], owner),
                range=(box.low.ravel(), box.high.ravel()),
            )
        else:
            raise ConfigError(
                f"{owner}: cannot build an Action from space {space}; expected a Box, Discrete, MultiDiscrete "
                "or Dict({'c': Box, 'd': Discrete or MultiDiscrete})"
            )
        return action

    #: Upstream HERON's name for :meth:`from_space`.
    from_gym_space = from_space

    def __repr__(self) -> str:
        parts = []
        if self.dim_c:
            parts.append(f"c={np.array2string(self.c, precision=4)}")
        if self.dim_d:
            parts.append(f"d={self.d.tolist()}")
        return f"Action({', '.join(parts) or 'empty'})"
