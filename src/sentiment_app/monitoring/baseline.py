"""The baseline a model's traffic is compared with, as Model Monitor's ``suggest_baseline`` makes one:
statistics of the data and constraints with bands, computed once per model and kept in the store
(``monitoring/baselines/<model version>.json``).

Review lengths and the vocabulary come from the training split; the share of unknown words, the
verdicts and their agreement with the true labels from a sample of held-out reviews (the test
split), which the model never saw, so they show what it does with new reviews of the same kind. A
band holds the statistic of all but a thousandth of random batches of ``REFERENCE_RECORDS`` baseline
reviews on each side (bootstrap), so traffic of that size or more from the same kind of reviews
stays inside it; smaller traffic is not judged.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from sentiment_app.data.dataset import load_imdb, stratified_sample
from sentiment_app.inference.model import SentimentModel
from sentiment_app.monitoring.statistics import (CONFIDENCE_EDGES, LENGTH_EDGES, LOWER, STATISTICS, UPPER,
                                                 Observations, Statistic, histogram, words)
from sentiment_app.store import ArtifactStore

BASELINE_VERSION = 1  # what a baseline holds; a stored one of another version is computed again
BASELINE_PREFIX = "monitoring/baselines"
HELD_OUT_REVIEWS = 2000  # test-split reviews the model scores for the baseline
REFERENCE_RECORDS = 30  # the traffic size the bands are drawn for, and the least that is judged
DRAWS = 2000  # bootstrap batches per band
BAND_QUANTILES = (0.001, 0.999)
MIN_WORD_COUNT = 2  # a word is in the vocabulary when the training reviews use it this often
SEED = 0
PREDICT_CHUNK = 200


@dataclass(frozen=True)
class Constraint:
    """A band a statistic of the traffic must stay in; an open side is None."""

    name: str
    description: str
    baseline: float
    lower: float | None
    upper: float | None

    def holds(self, value: float) -> bool:
        return (self.lower is None or value >= self.lower) and (self.upper is None or value <= self.upper)

    @property
    def band(self) -> str:
        if self.lower is None:
            return f"≤ {self.upper:.4g}"
        if self.upper is None:
            return f"≥ {self.lower:.4g}"
        return f"{self.lower:.4g} – {self.upper:.4g}"


@dataclass(frozen=True)
class Baseline:
    model_version: str
    model: str
    created: str
    data: dict[str, Any]  # what the baseline was computed from
    vocabulary: frozenset[str]
    histograms: dict[str, list[float]]  # review_words, confidence: shares per bin
    constraints: tuple[Constraint, ...]

    def to_json(self) -> bytes:
        value = {**asdict(self), "version": BASELINE_VERSION, "vocabulary": sorted(self.vocabulary)}
        return json.dumps(value, ensure_ascii=False, indent=1).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> "Baseline":
        value = json.loads(data)
        if value.pop("version", None) != BASELINE_VERSION:
            raise ValueError("another version of the baseline")
        return cls(**{**value, "vocabulary": frozenset(value["vocabulary"]),
                      "constraints": tuple(Constraint(**c) for c in value["constraints"])})


def vocabulary(texts: list[str]) -> tuple[frozenset[str], np.ndarray]:
    """The words the reviews use at least ``MIN_WORD_COUNT`` times, and each review's length."""
    counts: Counter[str] = Counter()
    lengths = []
    for text in tqdm(texts, desc="baseline vocabulary", unit="review"):
        found = words(text)
        counts.update(found)
        lengths.append(len(found))
    return frozenset(w for w, n in counts.items() if n >= MIN_WORD_COUNT), np.array(lengths, dtype=np.int64)


def predict(model: SentimentModel, texts: list[str]) -> np.ndarray:
    """Probabilities of "positive", in chunks so the progress shows."""
    chunks = [texts[i : i + PREDICT_CHUNK] for i in range(0, len(texts), PREDICT_CHUNK)]
    return np.concatenate([model.predict_proba(chunk) for chunk in tqdm(chunks, desc="baseline verdicts",
                                                                        unit="chunk")])


def band(statistic: Statistic, observations: Observations, rng: np.random.Generator) -> Constraint:
    """The statistic over the baseline and its bootstrap band for batches of ``REFERENCE_RECORDS``."""
    values = statistic.values(observations)
    draws = statistic.compute(values[rng.integers(0, len(values), (DRAWS, REFERENCE_RECORDS))])
    lower, upper = (float(q) for q in np.quantile(draws, BAND_QUANTILES))
    return Constraint(statistic.name, statistic.description, float(statistic.compute(values)),
                      None if statistic.side == UPPER else lower, None if statistic.side == LOWER else upper)


def compute_baseline(model: SentimentModel, train_texts: list[str], held_out_texts: list[str],
                     held_out_labels: np.ndarray, data: dict[str, Any]) -> Baseline:
    """The baseline of ``model`` from its training reviews and labeled held-out reviews."""
    known, train_lengths = vocabulary(train_texts)
    probabilities = predict(model, held_out_texts)
    positive = probabilities >= 0.5
    held_out = Observations.of(held_out_texts, known, positive, np.maximum(probabilities, 1 - probabilities),
                               positive == held_out_labels.astype(bool))
    observations = Observations(train_lengths, held_out.unknown, held_out.positive, held_out.confidence,
                                held_out.agreement)
    rng = np.random.default_rng(SEED)
    return Baseline(
        model.version, model.name, datetime.now(timezone.utc).isoformat(timespec="seconds"), data, known,
        {"review_words": histogram(train_lengths, LENGTH_EDGES),
         "confidence": histogram(held_out.confidence, CONFIDENCE_EDGES)},
        tuple(band(statistic, observations, rng) for statistic in STATISTICS))


def baseline_key(model_version: str) -> str:
    return f"{BASELINE_PREFIX}/{model_version}.json"


def baseline_for(store: ArtifactStore, model: SentimentModel, data_path: Callable[[], Path]) -> Baseline:
    """The model's stored baseline, else one computed from the IMDB data at ``data_path()`` and stored."""
    key = baseline_key(model.version)
    if store.exists(key):
        try:
            return Baseline.from_json(store.read_bytes(key))
        except (ValueError, KeyError, TypeError):
            pass  # another version, or damaged: computed again below
    path = data_path()
    splits = load_imdb(path)
    held_out = stratified_sample(splits["test"], HELD_OUT_REVIEWS, SEED)
    data = {"path": str(path), "train_reviews": len(splits["train"]),
            "train_fingerprint": splits["train"].fingerprint(), "held_out_reviews": len(held_out)}
    baseline = compute_baseline(model, splits["train"].texts, held_out.texts, held_out.labels, data)
    store.put_bytes(key, baseline.to_json())
    return baseline
