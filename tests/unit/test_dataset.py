"""The loader on every data form, on a tiny data set, and its clear errors. (On the real data:
``tests/system/test_dataset.py``; the download: ``tests/system/test_download.py``.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from sentiment_app.cli import main
from sentiment_app.data.dataset import load_imdb
from sentiment_app.errors import DataError
from tests.data_support import TINY_TEST, TINY_TRAIN, aclimdb_files, as_sets, csv_gz, make_archive


def make_folder(root: Path) -> Path:
    for split, reviews in (("train", TINY_TRAIN), ("test", TINY_TEST)):
        for name, text in aclimdb_files(split, reviews):
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text, encoding="utf-8")
    return root / "aclImdb"


def make_csv_pair(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.csv.gz").write_bytes(csv_gz(TINY_TRAIN))
    (folder / "test.csv.gz").write_bytes(csv_gz(TINY_TEST))
    return folder


@pytest.mark.parametrize("form", ["archive", "folder", "parent-of-folder", "csv"])
def test_every_form_loads_the_same_reviews(tmp_path: Path, form: str) -> None:
    path = {
        "archive": lambda: make_archive(tmp_path / "aclImdb_v1.tar.gz"),
        "folder": lambda: make_folder(tmp_path),
        "parent-of-folder": lambda: make_folder(tmp_path).parent,
        "csv": lambda: make_csv_pair(tmp_path / "csv"),
    }[form]()
    splits = load_imdb(path)
    assert as_sets(splits) == as_sets({"train": TINY_TRAIN, "test": TINY_TEST})


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda p: p / "missing", "does not exist"),
        (lambda p: p, "No IMDB data found"),
        (lambda p: (p / "x.txt").write_text("x") and p / "x.txt", "not a .tar.gz"),
        (lambda p: (p / "a.tar.gz").write_bytes(b"not gzip") and p / "a.tar.gz", "Could not read the archive"),
    ],
)
def test_missing_or_malformed_data_gives_one_clear_error(tmp_path: Path, setup, message: str) -> None:
    with pytest.raises(DataError, match=message) as info:
        load_imdb(setup(tmp_path))
    assert "--data" in str(info.value)  # every message says how to fix it


def test_csv_without_text_column_is_rejected(tmp_path: Path) -> None:
    import gzip

    for split in ("train", "test"):
        (tmp_path / f"{split}.csv.gz").write_bytes(gzip.compress(b"id,label\n1,0\n"))
    with pytest.raises(DataError, match="lacks the column"):
        load_imdb(tmp_path)


def test_cli_reports_bad_data_without_traceback(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["prepare", "--home", str(tmp_path / "h"), "--data", str(tmp_path)])
    assert result.exit_code == 1
    assert "error: No IMDB data found" in result.output
    assert "Traceback" not in result.output
