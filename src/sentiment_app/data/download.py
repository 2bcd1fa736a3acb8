"""Download the official IMDB archive: progress bar, resumable ``.part`` file, checksum check."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from sentiment_app.errors import DataError

IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
IMDB_SIZE = 84_125_825
IMDB_MD5 = "7c2ac02c03563afcf9b574c7e56c153a"
CHUNK = 1 << 20


def file_md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def download_imdb(
    cache_dir: Path, url: str = IMDB_URL, size: int = IMDB_SIZE, md5: str = IMDB_MD5, timeout: float = 30.0
) -> Path:
    """Return the verified archive in ``cache_dir``, downloading (or resuming) it if needed."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / "aclImdb_v1.tar.gz"
    if target.exists():
        return target
    part = target.with_suffix(".gz.part")
    start = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={start}-"} if start else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if start and response.status != 206:  # server ignored Range: start over
                start = 0
            mode = "ab" if start else "wb"
            with open(part, mode) as out, tqdm(
                total=size, initial=start, unit="B", unit_scale=True, desc=target.name
            ) as bar:
                for block in iter(lambda: response.read(CHUNK), b""):
                    out.write(block)
                    bar.update(len(block))
    except (urllib.error.URLError, OSError) as exc:
        raise _interrupted(url, part, str(exc)) from exc
    got = part.stat().st_size
    if got < size:
        raise _interrupted(url, part, f"connection closed after {got} of {size} bytes")
    if got != size or file_md5(part) != md5:
        part.unlink()
        raise DataError(f"Downloaded archive is corrupt ({got} bytes, checksum mismatch); run again.")
    part.replace(target)
    return target


def _interrupted(url: str, part: Path, reason: str) -> DataError:
    return DataError(
        f"Could not download the IMDB data set from {url} ({reason}). "
        f"The partial file {part} is kept and the next run resumes it. Without internet, point "
        "--data (or SENTIMENT_APP_DATA) at a local copy: aclImdb_v1.tar.gz, the extracted "
        "aclImdb/ folder, or a folder with train.csv.gz and test.csv.gz."
    )
