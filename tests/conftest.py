"""Shared fixtures: the real IMDB data (through the project's own data setting) and tiny fixtures."""

from __future__ import annotations

import csv
import gzip
import io
import os
from pathlib import Path

import pytest

from sentiment_app.data.dataset import Reviews
from sentiment_app.settings import ENV_DATA

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The official split as gzipped CSVs: ``SENTIMENT_APP_DATA``, else ``../shared/data``."""
    path = Path(os.environ.get(ENV_DATA) or REPO.parent / "shared" / "data")
    if not (path / "train.csv.gz").is_file():
        pytest.fail(f"IMDB data not found at {path}; set {ENV_DATA}")
    return path


def csv_gz(reviews: Reviews) -> bytes:
    """One split in the CSV-pair form (``id,rating,label,text``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "rating", "label", "text"])
    for i, (text, label) in enumerate(zip(reviews.texts, reviews.labels.tolist())):
        writer.writerow([i, 10 if label else 1, label, text])
    return gzip.compress(buffer.getvalue().encode("utf-8"))
