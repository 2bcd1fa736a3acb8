"""The loader on every data form, the download (against a real local HTTP server) and clear errors."""

from __future__ import annotations

import hashlib
import http.server
import io
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from sentiment_app.cli import main
from sentiment_app.data.dataset import Reviews, load_imdb, shuffled, stratified_sample
from sentiment_app.data.download import download_imdb
from sentiment_app.errors import DataError
from tests.conftest import csv_gz

TRAIN = Reviews(["Loved it <br />great", "Awful, just awful.", "Bad acting"], np.array([1, 0, 0]))
TEST = Reviews(["Superb!", "Boring film"], np.array([1, 0]))


def _files(split: str, reviews: Reviews) -> Iterator[tuple[str, str]]:
    for i, (text, label) in enumerate(zip(reviews.texts, reviews.labels.tolist())):
        yield f"aclImdb/{split}/{'pos' if label else 'neg'}/{i}_{9 if label else 2}.txt", text


def make_folder(root: Path) -> Path:
    for split, reviews in (("train", TRAIN), ("test", TEST)):
        for name, text in _files(split, reviews):
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text, encoding="utf-8")
    return root / "aclImdb"


def make_archive(path: Path) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for split, reviews in (("train", TRAIN), ("test", TEST)):
            for name, text in _files(split, reviews):
                data = text.encode()
                info = tarfile.TarInfo(name)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("aclImdb/README")
        info.size = 2
        archive.addfile(info, io.BytesIO(b"hi"))
    return path


def make_csv_pair(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.csv.gz").write_bytes(csv_gz(TRAIN))
    (folder / "test.csv.gz").write_bytes(csv_gz(TEST))
    return folder


def as_sets(splits: dict[str, Reviews]) -> dict[str, set[tuple[str, int]]]:
    return {name: set(zip(r.texts, r.labels.tolist())) for name, r in splits.items()}


@pytest.mark.parametrize("form", ["archive", "folder", "parent-of-folder", "csv"])
def test_every_form_loads_the_same_reviews(tmp_path: Path, form: str) -> None:
    path = {
        "archive": lambda: make_archive(tmp_path / "aclImdb_v1.tar.gz"),
        "folder": lambda: make_folder(tmp_path),
        "parent-of-folder": lambda: make_folder(tmp_path).parent,
        "csv": lambda: make_csv_pair(tmp_path / "csv"),
    }[form]()
    splits = load_imdb(path)
    assert as_sets(splits) == as_sets({"train": TRAIN, "test": TEST})


def test_real_csv_pair_has_the_official_split(real_data: Path) -> None:
    splits = load_imdb(real_data)
    for reviews in splits.values():
        assert len(reviews) == 25_000 and int(reviews.labels.sum()) == 12_500
    assert splits["train"].texts[12_500].startswith("Bromwell High is a cartoon comedy")


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


def test_stratified_sample_keeps_balance_and_shuffle_mixes_labels(real_data: Path) -> None:
    train = load_imdb(real_data)["train"]
    sample = stratified_sample(train, 1000, seed=3)
    assert len(sample) == 1000 and int(sample.labels.sum()) == 500
    mixed = shuffled(train, seed=1)
    assert 0.4 < mixed.labels[:1000].mean() < 0.6  # the file itself starts with 12,500 negatives
    assert sorted(mixed.texts[:50]) != mixed.texts[:50]


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Serves one file with HTTP Range support, dropping the connection once mid-way when asked."""

    payload = b""
    fail_after: int | None = None

    def do_GET(self) -> None:  # noqa: N802
        start = int(self.headers.get("Range", "bytes=0-")[6:].split("-")[0] or 0)
        body = self.payload[start:]
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if RangeHandler.fail_after is not None:
            self.wfile.write(body[: RangeHandler.fail_after])
            RangeHandler.fail_after = None
            self.wfile.flush()
            self.connection.shutdown(2)
            return
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def file_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/aclImdb_v1.tar.gz"
    server.shutdown()


def test_download_resumes_a_partial_file_and_verifies_checksum(tmp_path: Path, file_server: str) -> None:
    archive = make_archive(tmp_path / "src.tar.gz").read_bytes()
    md5 = hashlib.md5(archive).hexdigest()
    RangeHandler.payload, RangeHandler.fail_after = archive, len(archive) // 2
    cache = tmp_path / "cache"
    with pytest.raises(DataError, match="resumes"):
        download_imdb(cache, file_server, size=len(archive), md5=md5)
    part = cache / "aclImdb_v1.tar.gz.part"
    assert 0 < part.stat().st_size < len(archive)
    path = download_imdb(cache, file_server, size=len(archive), md5=md5)
    assert path.read_bytes() == archive and not part.exists()
    assert as_sets(load_imdb(path)) == as_sets({"train": TRAIN, "test": TEST})


def test_download_with_wrong_checksum_keeps_nothing(tmp_path: Path, file_server: str) -> None:
    RangeHandler.payload, RangeHandler.fail_after = b"x" * 100, None
    with pytest.raises(DataError, match="corrupt"):
        download_imdb(tmp_path, file_server, size=100, md5="0" * 32)
    assert list(tmp_path.iterdir()) == []
