"""Short-sentence accuracy on tiny ``short/*.tsv`` files with a predictor whose answers are known."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sentiment_app.errors import DataError
from sentiment_app.evaluation.short import SOURCES, load_short, short_accuracy

SENTENCES = {
    "imdb": [(1, 'A "great" film, truly.'), (0, "Dull.")],
    "yelp": [(1, "Loved the food."), (0, "Slow service."), (1, "Nice staff.'")],
    "amazon": [(0, "Broke in a day."), (1, "Works well.")],
}
# P(positive) per sentence: imdb right twice, yelp wrong on "Nice staff.'", amazon wrong on both.
ANSWERS = {'A "great" film, truly.': 0.9, "Dull.": 0.1, "Loved the food.": 0.5, "Slow service.": 0.2,
           "Nice staff.'": 0.49, "Broke in a day.": 0.7, "Works well.": 0.3}


def make_short(root: Path, sentences: dict = SENTENCES) -> Path:
    (root / "short").mkdir(parents=True)
    for source, rows in sentences.items():
        lines = ["label\tsentence", *(f"{label}\t{text}" for label, text in rows)]
        (root / "short" / f"{source}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def test_accuracy_per_source_and_mean_in_one_batched_call(tmp_path: Path) -> None:
    calls = []

    def predict(texts: list[str]) -> np.ndarray:
        calls.append(texts)
        return np.array([ANSWERS[t] for t in texts])

    result = short_accuracy(predict, make_short(tmp_path))
    assert result.accuracy == pytest.approx({"imdb": 1.0, "yelp": 2 / 3, "amazon": 0.0, "mean": 5 / 9})
    assert calls == [[text for source in SOURCES for _, text in SENTENCES[source]]]  # quotes kept as typed
    assert result.labels.tolist() == [label for source in SOURCES for label, _ in SENTENCES[source]]
    assert result.probabilities.tolist() == [ANSWERS[t] for t in calls[0]]


def test_missing_folder_or_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="short sentences are missing.*imdb.tsv, yelp.tsv, amazon.tsv"):
        load_short(tmp_path)
    make_short(tmp_path / "partial", {"imdb": SENTENCES["imdb"]})
    with pytest.raises(DataError, match="lacks yelp.tsv, amazon.tsv"):
        load_short(tmp_path / "partial")


def test_malformed_file_names_its_line(tmp_path: Path) -> None:
    make_short(tmp_path, {**SENTENCES, "amazon": [(1, "fine"), ("pos", "not a label")]})
    with pytest.raises(DataError, match="amazon.tsv line 3"):
        load_short(tmp_path)
