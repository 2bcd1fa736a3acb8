"""The download of the official archive against a real local HTTP server: resuming a partial file,
verifying the checksum."""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sentiment_app.data.dataset import load_imdb
from sentiment_app.data.download import download_imdb
from sentiment_app.errors import DataError
from tests.data_support import TINY_TEST, TINY_TRAIN, as_sets, make_archive


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
    assert as_sets(load_imdb(path)) == as_sets({"train": TINY_TRAIN, "test": TINY_TEST})


def test_download_with_wrong_checksum_keeps_nothing(tmp_path: Path, file_server: str) -> None:
    RangeHandler.payload, RangeHandler.fail_after = b"x" * 100, None
    with pytest.raises(DataError, match="corrupt"):
        download_imdb(tmp_path, file_server, size=100, md5="0" * 32)
    assert list(tmp_path.iterdir()) == []
