"""Running mean and standard deviation of observations and returns."""

from __future__ import annotations

import numpy as np

MIN_STD = 1e-6


class RunningMeanStd:
    """Mean and variance of every sample seen so far (Chan et al.'s parallel update).

    Args:
        size: length of one sample (``()``-shaped samples: use ``size=1``).
    """

    def __init__(self, size: int) -> None:
        self.count = 0
        self.mean = np.zeros(size)
        self.m2 = np.zeros(size)

    def update(self, samples: np.ndarray, counts: np.ndarray | None = None) -> None:
        """Add sample rows (shape ``(n, size)``), row ``i`` seen ``counts[i]`` times (default once)."""
        samples = np.asarray(samples, dtype=np.float64).reshape(-1, self.mean.size)
        if counts is None:
            n = samples.shape[0]
            if n == 0:
                return
            batch_mean = samples.mean(axis=0)
            batch_m2 = ((samples - batch_mean) ** 2).sum(axis=0)
        else:
            n = int(counts.sum())
            if n == 0:
                return
            weights = counts[:, None].astype(np.float64)
            batch_mean = (weights * samples).sum(axis=0) / n
            batch_m2 = (weights * (samples - batch_mean) ** 2).sum(axis=0)
        total = self.count + n
        delta = batch_mean - self.mean
        self.mean = self.mean + delta * n / total
        self.m2 = self.m2 + batch_m2 + delta**2 * self.count * n / total
        self.count = total

    @property
    def std(self) -> np.ndarray:
        """Standard deviation (at least ``MIN_STD``; 1 before any sample)."""
        if self.count == 0:
            return np.ones_like(self.mean)
        return np.maximum(np.sqrt(self.m2 / self.count), MIN_STD)

    def normalize(self, values: np.ndarray) -> np.ndarray:
        """``(values - mean) / std``."""
        return (values - self.mean) / self.std

    def state(self) -> dict[str, np.ndarray]:
        """Arrays that :meth:`load_state` restores."""
        return {"count": np.array(self.count), "mean": self.mean.copy(), "m2": self.m2.copy()}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        self.count = int(state["count"])
        self.mean = np.array(state["mean"], dtype=np.float64)
        self.m2 = np.array(state["m2"], dtype=np.float64)
