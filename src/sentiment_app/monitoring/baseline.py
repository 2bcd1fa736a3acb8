"""The baseline a model's traffic is compared with, made once per model and kept in the store as a
folder, ``monitoring/baselines/<model version>/``, of the files a Model Monitor ``DataQuality``
baselining job writes and one of this project's:

- ``statistics.json`` and ``constraints.json`` in Model Monitor's schema: the features of a sample
  of held-out reviews (the test split, which the model never saw) with the model's answers to
  them, and the constraints the analyzer would suggest. A SageMaker monitoring schedule can use
  them as they are, and a baseline SageMaker made can stand in for them (``--baseline``).
- ``bands.json``: what Model Monitor's files cannot say. Bands for statistics of the traffic, each
  holding the statistic of all but a thousandth of random batches of ``REFERENCE_RECORDS``
  baseline reviews on each side (bootstrap), so traffic of that size or more from the same kind of
  reviews stays inside it (smaller traffic is not judged); and the training vocabulary the share of
  unknown words needs. Review lengths and the vocabulary come from the training split; the share of
  unknown words, the verdicts and their agreement with the true labels from the held-out reviews.
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
from sentiment_app.errors import SentimentAppError
from sentiment_app.inference.handler import label
from sentiment_app.inference.model import SentimentModel
from sentiment_app.monitoring.constraints_file import suggest_constraints
from sentiment_app.monitoring.features import feature_columns
from sentiment_app.monitoring.statistics import LOWER, STATISTICS, UPPER, Observations, Statistic, words
from sentiment_app.monitoring.statistics_file import FeatureStatistics, read_statistics, statistics_json
from sentiment_app.store import ArtifactStore

BANDS_VERSION = 2  # what bands.json holds; a stored baseline of another version is computed again
BASELINE_PREFIX = "monitoring/baselines"
STATISTICS_FILE, CONSTRAINTS_FILE, BANDS_FILE = "statistics.json", "constraints.json", "bands.json"
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
class Bands:
    """The project's own part of a baseline (``bands.json``)."""

    model_version: str
    model: str
    created: str
    data: dict[str, Any]  # what the baseline was computed from
    vocabulary: frozenset[str]
    constraints: tuple[Constraint, ...]

    def to_json(self) -> bytes:
        value = {**asdict(self), "version": BANDS_VERSION, "vocabulary": sorted(self.vocabulary)}
        return json.dumps(value, ensure_ascii=False, indent=1).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> "Bands":
        value = json.loads(data)
        if value.pop("version", None) != BANDS_VERSION:
            raise ValueError("another version of the baseline")
        return cls(**{**value, "vocabulary": frozenset(value["vocabulary"]),
                      "constraints": tuple(Constraint(**c) for c in value["constraints"])})


@dataclass(frozen=True)
class Baseline:
    """Model Monitor's two files (as parsed JSON) and, for a baseline made here, the bands."""

    statistics: dict[str, Any]
    constraints: dict[str, Any]
    bands: Bands | None

    @property
    def features(self) -> dict[str, FeatureStatistics]:
        return read_statistics(self.statistics)


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
    bands = Bands(model.version, model.name, datetime.now(timezone.utc).isoformat(timespec="seconds"), data, known,
                  tuple(band(statistic, observations, rng) for statistic in STATISTICS))
    statistics = statistics_json(feature_columns(held_out_texts, probabilities.tolist(),
                                                 [label(p) for p in probabilities]))
    return Baseline(statistics, suggest_constraints(statistics), bands)


def baseline_prefix(model_version: str) -> str:
    return f"{BASELINE_PREFIX}/{model_version}/"


def store_baseline(store: ArtifactStore, prefix: str, baseline: Baseline) -> None:
    """The baseline's files under ``prefix``, the bands first: the two Model Monitor files, written
    last, mark a complete baseline."""
    if baseline.bands is not None:
        store.put_bytes(prefix + BANDS_FILE, baseline.bands.to_json())
    for name, document in ((STATISTICS_FILE, baseline.statistics), (CONSTRAINTS_FILE, baseline.constraints)):
        store.put_bytes(prefix + name, json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8"))


def read_baseline(store: ArtifactStore, prefix: str = "") -> Baseline:
    """The baseline under ``prefix``: Model Monitor's two files, this project's or SageMaker's, and the
    bands where there are some."""
    where = store.url(prefix) if prefix else store.uri
    missing = [name for name in (STATISTICS_FILE, CONSTRAINTS_FILE) if not store.exists(prefix + name)]
    if missing:
        raise SentimentAppError(f"No {' or '.join(missing)} in {where}: a baseline holds Model Monitor's "
                                "statistics.json and constraints.json")
    try:
        statistics, constraints = (json.loads(store.read_bytes(prefix + name))
                                   for name in (STATISTICS_FILE, CONSTRAINTS_FILE))
        read_statistics(statistics)
        if not all("name" in f and "inferred_type" in f for f in constraints["features"]):
            raise KeyError("a constraint without name or inferred_type")
    except (ValueError, KeyError, TypeError) as exc:
        raise SentimentAppError(f"The baseline in {where} is not Model Monitor's statistics.json and "
                                f"constraints.json: {exc!r}") from exc
    bands = Bands.from_json(store.read_bytes(prefix + BANDS_FILE)) if store.exists(prefix + BANDS_FILE) else None
    return Baseline(statistics, constraints, bands)


def baseline_for(store: ArtifactStore, model: SentimentModel, data_path: Callable[[], Path]) -> Baseline:
    """The model's stored baseline, else one computed from the IMDB data at ``data_path()`` and stored."""
    prefix = baseline_prefix(model.version)
    try:
        stored = read_baseline(store, prefix)
        if stored.bands is not None:
            return stored
    except (SentimentAppError, ValueError, KeyError, TypeError):
        pass  # none, another version, or damaged: computed again below
    path = data_path()
    splits = load_imdb(path)
    held_out = stratified_sample(splits["test"], HELD_OUT_REVIEWS, SEED)
    data = {"path": str(path), "train_reviews": len(splits["train"]),
            "train_fingerprint": splits["train"].fingerprint(), "held_out_reviews": len(held_out)}
    baseline = compute_baseline(model, splits["train"].texts, held_out.texts, held_out.labels, data)
    store_baseline(store, prefix, baseline)
    return baseline
