"""How far a model's confidence can be trusted: expected calibration error and a reliability diagram.

A web page shows the probability to the person who typed the review, so "90 % positive" should be
right about nine times in ten. Confidence is that of the predicted class (``p`` when ``p >= 0.5``,
else ``1 - p``), binned into equal-width bins of [0, 1] (Guo et al., ICML 2017).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

BINS = 10
THRESHOLD = 0.5  # as compute_metrics: positive when p >= 0.5


@dataclass(frozen=True)
class Reliability:
    """Per bin ``(edges[i], edges[i + 1]]``: how many predictions, their accuracy and mean
    confidence (NaN in empty bins), and the expected calibration error over all bins."""

    edges: np.ndarray
    counts: np.ndarray
    accuracy: np.ndarray
    confidence: np.ndarray
    ece: float


def reliability(labels: Sequence[int] | np.ndarray, probabilities: Sequence[float] | np.ndarray,
                bins: int = BINS) -> Reliability:
    """The reliability diagram's data and ECE = sum over bins of |bin|/N * |accuracy - confidence|."""
    y = np.asarray(labels).astype(int)
    p = np.asarray(probabilities, dtype=float)
    if y.shape != p.shape or not len(y):
        raise ValueError(f"{len(y)} labels but {len(p)} probabilities (need the same number, at least one)")
    predicted = (p >= THRESHOLD).astype(int)
    confidence = np.where(predicted == 1, p, 1 - p)
    edges = np.linspace(0, 1, bins + 1)
    index = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)
    counts = np.bincount(index, minlength=bins)
    correct = np.bincount(index, weights=predicted == y, minlength=bins)
    sure = np.bincount(index, weights=confidence, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy, mean_confidence = correct / counts, sure / counts
    return Reliability(edges, counts, accuracy, mean_confidence, float(np.abs(correct - sure).sum() / len(y)))
