"""The official data as the loaders see it: every review's movie, the unlabeled reviews, the split by
movie and the short sentences (``SENTIMENT_APP_DATA``, else ``../shared/data`` beside the repository)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sentiment_app.data.dataset import Reviews, load_imdb, load_unsup, split_by_movie
from sentiment_app.evaluation.short import SOURCES, load_short
from tests.data_support import imdb_data


@pytest.fixture(scope="module")
def data() -> Path:
    """The data folder with the unlabeled reviews and the short sentences: a one-line skip where they
    are absent, but a failure under CI (CI=true)."""
    return imdb_data("unsup.csv.gz", "short")


@pytest.fixture(scope="module")
def splits(data: Path) -> dict[str, Reviews]:
    return load_imdb(data)


def test_every_labeled_review_has_its_movie(splits: dict[str, Reviews]) -> None:
    for reviews in splits.values():
        assert len(reviews) == 25_000 and reviews.groups is not None and len(reviews.groups) == 25_000
        assert all(movie.startswith("tt") for movie in reviews.groups.tolist())
    assert len(np.unique(splits["train"].groups)) == 3_456 and len(np.unique(splits["test"].groups)) == 3_581


def test_train_and_test_movies_are_disjoint_but_for_one(splits: dict[str, Reviews]) -> None:
    assert len(set(splits["train"].groups.tolist()) & set(splits["test"].groups.tolist())) <= 1


def test_unlabeled_reviews_load(data: Path, splits: dict[str, Reviews]) -> None:
    texts = load_unsup(data)
    assert len(texts) == 50_000 and all(texts)
    assert texts[0].startswith("I admit, the great majority of films released before say 1933")
    assert not set(texts[:2000]) & set(splits["test"].texts)


def test_split_by_movie_puts_no_movie_on_both_sides(splits: dict[str, Reviews]) -> None:
    fit, val = split_by_movie(splits["train"], 0.1, seed=1)
    assert not set(fit.groups.tolist()) & set(val.groups.tolist())
    assert len(fit) + len(val) == 25_000 and 2_250 <= len(val) <= 2_750
    assert 0.45 <= val.labels.mean() <= 0.55


def test_short_sentences_load(data: Path) -> None:
    short = load_short(data)
    assert list(short) == list(SOURCES)
    for reviews in short.values():
        assert len(reviews) == 1_000 and int(reviews.labels.sum()) == 500
