"""Accuracy on what people type: single labelled sentences from IMDB, Yelp and Amazon reviews.

The data folder's ``short/{imdb,yelp,amazon}.tsv`` (UCI "Sentiment Labelled Sentences", header
``label<TAB>sentence``, 1 = positive). A model trained on whole reviews can do well on the test
split and still misjudge one-line inputs, so they are scored apart. Every imdb sentence comes from a
test-split review: report them, never train or choose a model on them.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sentiment_app.data.dataset import Reviews
from sentiment_app.errors import DataError
from sentiment_app.evaluation.metrics import compute_metrics

SOURCES = ("imdb", "yelp", "amazon")
FOLDER = "short"
HEADER = ["label", "sentence"]


@dataclass(frozen=True)
class ShortResult:
    """Accuracy per source and their ``mean``; labels and probabilities of every sentence (sources in
    :data:`SOURCES` order), for calibration."""

    accuracy: dict[str, float]
    labels: np.ndarray
    probabilities: np.ndarray


def _read_tsv(path: Path) -> Reviews:
    try:
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"Could not read {path}: {exc}") from exc
    if not rows or rows[0] != HEADER:
        raise DataError(f"{path} must start with the header label<TAB>sentence")
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != 2 or row[0] not in ("0", "1"):
            raise DataError(f"{path} line {line}: expected label (0 or 1) <TAB> sentence")
    return Reviews([row[1] for row in rows[1:]], np.array([int(row[0]) for row in rows[1:]], dtype=np.int64))


def load_short(data_dir: Path) -> dict[str, Reviews]:
    """The sentences of each source; a DataError naming the folder when it is missing."""
    folder = Path(data_dir) / FOLDER
    missing = [f"{s}.tsv" for s in SOURCES if not (folder / f"{s}.tsv").is_file()]
    if missing:
        raise DataError(f"The short sentences are missing: {folder} lacks {', '.join(missing)} "
                        "(label<TAB>sentence files of the data folder).")
    return {source: _read_tsv(folder / f"{source}.tsv") for source in SOURCES}


def short_accuracy(predict_proba: Callable[[list[str]], np.ndarray], data_dir: Path) -> ShortResult:
    """Score every sentence in one batched ``predict_proba`` call (P(positive) per text)."""
    sets = load_short(data_dir)
    texts = [text for source in SOURCES for text in sets[source].texts]
    probabilities = np.asarray(predict_proba(texts), dtype=float)
    labels = np.concatenate([sets[source].labels for source in SOURCES])
    ends = np.cumsum([len(sets[source]) for source in SOURCES])
    accuracy = {source: compute_metrics(y, p)["accuracy"]
                for source, y, p in zip(SOURCES, np.split(labels, ends[:-1]), np.split(probabilities, ends[:-1]))}
    accuracy["mean"] = float(np.mean(list(accuracy.values())))
    return ShortResult(accuracy, labels, probabilities)
