"""What the monitor measures on a set of reviews and their verdicts, for the baseline and the traffic
alike: review length in words, the share of words outside the training vocabulary, the predicted
positive rate, the confidence of the verdicts and, where the true label is known (held-out labels,
feedback), how often the verdict agrees with it.

Words are runs of Unicode word characters of the lower-cased text without HTML, so a review in any
script has a length, and words the training reviews never use count as unknown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from sentiment_app.features.text import strip_html

WORD = re.compile(r"\w+")
LENGTH_EDGES = np.array([0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, np.inf])  # words per review
CONFIDENCE_EDGES = np.linspace(0.5, 1.0, 11)
BOTH, UPPER, LOWER = "both", "upper", "lower"  # which side of a band is checked


def words(review: str) -> list[str]:
    return WORD.findall(strip_html(review).lower())


@dataclass(frozen=True)
class Observations:
    """Per review: its length and (unknown, all) word counts; per verdict: positive or not, and its
    confidence when the answer gave a probability; per known true label: whether the verdict agreed."""

    lengths: np.ndarray
    unknown: np.ndarray  # shape (reviews, 2): unknown words, words
    positive: np.ndarray
    confidence: np.ndarray
    agreement: np.ndarray

    @classmethod
    def of(cls, reviews: Sequence[str], vocabulary: frozenset[str], positive: Sequence[bool],
           confidence: Sequence[float], agreement: Sequence[bool]) -> "Observations":
        tokens = [words(review) for review in reviews]
        unknown = [(sum(word not in vocabulary for word in found), len(found)) for found in tokens]
        return cls(np.array([len(found) for found in tokens], dtype=np.int64),
                   np.array(unknown, dtype=np.int64).reshape(-1, 2), np.array(positive, dtype=bool),
                   np.array(confidence, dtype=np.float64), np.array(agreement, dtype=bool))


def _share(pairs: np.ndarray) -> float:
    """Unknown words over all words (0 when there are no words)."""
    total = pairs[..., 1].sum(axis=-1)
    return np.where(total > 0, pairs[..., 0].sum(axis=-1) / np.maximum(total, 1), 0.0)


@dataclass(frozen=True)
class Statistic:
    """One monitored figure: what it is, the per-review values it rests on, how a sample of them
    (rows of a 2-D array, or one sample) becomes the figure, and which side of its band counts."""

    name: str
    description: str
    values: Callable[[Observations], np.ndarray]
    compute: Callable[[np.ndarray], np.ndarray]  # over the last axis (the last two for the word counts)
    side: str = BOTH


STATISTICS = (
    Statistic("review_words_median", "median review length (words)", lambda o: o.lengths,
              lambda v: np.median(v, axis=-1)),
    Statistic("unknown_word_share", "share of words outside the training vocabulary", lambda o: o.unknown, _share,
              UPPER),
    Statistic("positive_rate", "share of verdicts that are positive", lambda o: o.positive,
              lambda v: np.mean(v, axis=-1)),
    Statistic("mean_confidence", "mean confidence of the verdicts", lambda o: o.confidence,
              lambda v: np.mean(v, axis=-1)),
    Statistic("feedback_agreement", "share of verdicts agreeing with the true label", lambda o: o.agreement,
              lambda v: np.mean(v, axis=-1), LOWER),
)


def measure(statistic: Statistic, observations: Observations) -> tuple[float | None, int]:
    """The figure over all of ``observations`` (None without any) and how many values it rests on."""
    values = statistic.values(observations)
    return (float(statistic.compute(values)) if len(values) else None), len(values)


def histogram(values: np.ndarray, edges: np.ndarray, weights: np.ndarray | None = None) -> list[float]:
    """Shares of ``values`` (each counting its weight, 1 by default: a sketch's items stand for
    several values) per bin (the last bin closed); all zero without values."""
    counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges, weights=weights)
    total = len(values) if weights is None else float(np.sum(weights))
    return (counts / max(total, 1)).tolist()
