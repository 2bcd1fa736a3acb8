"""The KLL quantile sketch of a numerical column as Model Monitor's ``statistics.json`` stores it:
``parameters`` ``{c, k}`` and ``data``, one list of items per level, an item of level ``h``
standing for ``2**h`` values. Up to ``k`` values the sketch holds every value (level 0); beyond,
full levels are compacted as KLL does (every other item of the sorted level moves up one level
with twice the weight), so the weights always add up to the column's count."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

K = 2048  # the analyzer's sketch size
C = 0.64  # its shrinking factor: each level below the top holds c times the items of the one above


@dataclass(frozen=True)
class Sample:
    """Sorted values with their weights: the distribution a sketch stands for."""

    values: np.ndarray
    weights: np.ndarray

    @property
    def count(self) -> float:
        return float(self.weights.sum())

    def cdf(self, points: np.ndarray) -> np.ndarray:
        """Share of the weight at or below each point."""
        cumulative = np.concatenate([[0.0], np.cumsum(self.weights)])
        return cumulative[np.searchsorted(self.values, points, side="right")] / self.count


def _capacity(level: int, levels: int) -> int:
    return max(2, math.ceil(K * C ** (levels - 1 - level)))


def sketch_data(values: np.ndarray) -> list[list[float]]:
    """The levels of the column's sketch, level 0 first."""
    levels = [sorted(float(v) for v in values)]
    while True:
        full = next((h for h, level in enumerate(levels) if len(level) > _capacity(h, len(levels))), None)
        if full is None:
            return levels
        level = sorted(levels[full])
        kept = level[:1] if len(level) % 2 else []  # an odd item stays, so no weight is lost
        paired = level[len(kept):]
        if full + 1 == len(levels):
            levels.append([])
        levels[full] = kept
        levels[full + 1] = sorted(levels[full + 1] + paired[full % 2::2])


def sample(data: list[list[float]]) -> Sample:
    """The weighted values a sketch's levels stand for."""
    values = np.array([v for level in data for v in level], dtype=np.float64)
    weights = np.array([2.0 ** h for h, level in enumerate(data) for _ in level])
    order = np.argsort(values, kind="stable")
    return Sample(values[order], weights[order])
