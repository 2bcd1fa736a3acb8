"""The IMDB data as tests find it (and the CI's rule that it must be there), small data sets and archives."""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from sentiment_app.data.dataset import Reviews
from sentiment_app.settings import ENV_DATA
from tests.support import REPO

MISSING_DATA = "IMDB data "  # how every message about missing data begins


def data_dir() -> Path:
    """Where the tests look for the IMDB data: ``SENTIMENT_APP_DATA``, else ``../shared/data``."""
    return Path(os.environ.get(ENV_DATA) or REPO.parent / "shared" / "data")


def in_ci() -> bool:
    """``CI=true`` (or any value but empty, 0, false or no), as CI services and ``.ci/run`` set it."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def imdb_data(*needed: str) -> Path:
    """The IMDB data folder, with the train/test split and every file or folder in ``needed`` (e.g.
    ``"unsup.csv.gz"``, ``"short"``). Where something is missing the test is skipped with one line
    saying where the data was looked for, but under CI it fails: CI must never pass without them."""
    path = data_dir()
    if not all((path / name).is_file() for name in ("train.csv.gz", "test.csv.gz")):
        message = f"{MISSING_DATA}not found at {path}; set {ENV_DATA} (see README)"
    elif missing := [name for name in needed if not (path / name).exists()]:
        message = f"{MISSING_DATA}at {path} lacks {', '.join(missing)}; set {ENV_DATA} (see README)"
    else:
        return path
    if in_ci():
        pytest.fail(f"{message} (CI is set: tests that need the data fail without it)", pytrace=False)
    pytest.skip(message)


def csv_gz(reviews: Reviews) -> bytes:
    """One split in the CSV-pair form (``id,rating,label,text``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "rating", "label", "text"])
    for i, (text, label) in enumerate(zip(reviews.texts, reviews.labels.tolist())):
        writer.writerow([i, 10 if label else 1, label, text])
    return gzip.compress(buffer.getvalue().encode("utf-8"))


# A tiny data set in every form the loader reads.
TINY_TRAIN = Reviews(["Loved it <br />great", "Awful, just awful.", "Bad acting"], np.array([1, 0, 0]))


TINY_TEST = Reviews(["Superb!", "Boring film"], np.array([1, 0]))


def aclimdb_files(split: str, reviews: Reviews) -> Iterator[tuple[str, str]]:
    """(path, text) of each review as the official ``aclImdb`` folder names it."""
    for i, (text, label) in enumerate(zip(reviews.texts, reviews.labels.tolist())):
        yield f"aclImdb/{split}/{'pos' if label else 'neg'}/{i}_{9 if label else 2}.txt", text


def make_archive(path: Path) -> Path:
    """The tiny data set as ``aclImdb_v1.tar.gz``."""
    with tarfile.open(path, "w:gz") as archive:
        for split, reviews in (("train", TINY_TRAIN), ("test", TINY_TEST)):
            for name, text in aclimdb_files(split, reviews):
                data = text.encode()
                info = tarfile.TarInfo(name)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("aclImdb/README")
        info.size = 2
        archive.addfile(info, io.BytesIO(b"hi"))
    return path


def as_sets(splits: dict[str, Reviews]) -> dict[str, set[tuple[str, int]]]:
    return {name: set(zip(r.texts, r.labels.tolist())) for name, r in splits.items()}


def notebook_review_to_words(review: str) -> list[str]:
    """The original project's function (with the shipped stopword list instead of nltk.download)."""
    from bs4 import BeautifulSoup
    from nltk.stem.porter import PorterStemmer

    from sentiment_app.features.text import stopwords

    text = BeautifulSoup(review, "html.parser").get_text()
    text = re.sub(r"[^a-zA-Z0-9]", " ", text.lower())
    words = [w for w in text.split() if w not in stopwords()]
    return [PorterStemmer().stem(w) for w in words]
