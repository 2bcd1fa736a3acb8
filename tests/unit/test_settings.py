"""Settings: option > environment > what the home remembers > default."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sentiment_app.data.dataset import Reviews
from sentiment_app.errors import DataError
from sentiment_app.features.prepare import TEXT
from sentiment_app.pipeline import DataOptions, load_splits, prepare
from sentiment_app.settings import ENV_DATA, load_settings
from tests.data_support import csv_gz


def tiny_data(folder: Path) -> Path:
    folder.mkdir(parents=True)
    reviews = Reviews(["good film", "bad film", "great fun", "awful bore"], np.array([1, 0, 1, 0]))
    for split in ("train", "test"):
        (folder / f"{split}.csv.gz").write_bytes(csv_gz(reviews))
    return folder


def test_a_home_remembers_the_data_it_was_prepared_from(tmp_path: Path) -> None:
    home, data = tmp_path / "home", tiny_data(tmp_path / "imdb")
    assert load_settings(home=home, environ={}).data is None  # a new home knows nothing
    load_splits(load_settings(home=home, data=data, environ={}), DataOptions())
    assert load_settings(home=home, environ={}).data is None  # reading alone records nothing
    prepare(load_settings(home=home, data=data, environ={}), DataOptions(), channel=TEXT)
    later = load_settings(home=home, environ={})
    assert later.data == data.resolve() and later.data_remembered
    assert len(load_splits(later, DataOptions())["train"]) == 4
    other = tiny_data(tmp_path / "other")
    assert load_settings(home=home, environ={ENV_DATA: str(other)}).data == other.resolve()  # env beats memory
    assert load_settings(home=home, data=other, environ={}).data_remembered is False


def test_moved_data_is_named_in_one_clear_error(tmp_path: Path) -> None:
    home, data = tmp_path / "home", tiny_data(tmp_path / "imdb")
    prepare(load_settings(home=home, data=data, environ={}), DataOptions(), channel=TEXT)
    data.rename(tmp_path / "moved")
    with pytest.raises(DataError, match="prepared from .*imdb, which is no longer there.*pass --data"):
        load_splits(load_settings(home=home, environ={}), DataOptions())
    (home / "data.json").write_text("not json")
    assert load_settings(home=home, environ={}).data is None  # an unreadable record is no record
