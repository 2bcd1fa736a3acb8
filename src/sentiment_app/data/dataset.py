"""Read the labelled IMDB reviews from any of the forms a user may have.

Forms: the ``aclImdb_v1.tar.gz`` archive, the extracted ``aclImdb/`` folder, or a folder holding
``train.csv.gz`` and ``test.csv.gz`` (columns ``id,rating,label,text``).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sentiment_app.errors import DataError

SPLITS = ("train", "test")
_MEMBER = re.compile(r"(?:^|/)aclImdb/(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")
HELP = (
    "Point --data (or SENTIMENT_APP_DATA) at one of: the aclImdb_v1.tar.gz archive, the extracted "
    "aclImdb/ folder (with train/pos, train/neg, test/pos, test/neg), or a folder with "
    "train.csv.gz and test.csv.gz (columns id,rating,label,text). Leave it unset to download."
)


@dataclass(frozen=True)
class Reviews:
    """One split: review texts and labels (1 = positive, 0 = negative), row-aligned."""

    texts: list[str]
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.texts)

    def fingerprint(self) -> str:
        """A content hash, so caches follow the data and not its file names."""
        digest = hashlib.sha256()
        for text, label in zip(self.texts, self.labels.tolist()):
            digest.update(b"%d\x00" % label)
            digest.update(text.encode("utf-8"))
            digest.update(b"\x00")
        return digest.hexdigest()

    def take(self, index: np.ndarray) -> "Reviews":
        return Reviews([self.texts[i] for i in index.tolist()], self.labels[index])


def _from_rows(rows: list[tuple[int, str]], where: str) -> Reviews:
    if not rows:
        raise DataError(f"No reviews found in {where}. {HELP}")
    return Reviews([text for _, text in rows], np.array([label for label, _ in rows], dtype=np.int64))


def _read_csv(path: Path) -> Reviews:
    rows: list[tuple[int, str]] = []
    try:
        with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            missing = {"label", "text"} - set(reader.fieldnames or [])
            if missing:
                raise DataError(f"{path} lacks the column(s) {sorted(missing)}. {HELP}")
            for line, row in enumerate(reader, start=2):
                if row["label"] not in ("0", "1") or row["text"] is None:
                    raise DataError(f"{path} line {line}: label must be 0 or 1 and text present.")
                rows.append((int(row["label"]), row["text"]))
    except (OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"Could not read {path}: {exc}. {HELP}") from exc
    return _from_rows(rows, str(path))


def _sort_key(label: str, name: str) -> tuple[int, int]:
    return (0 if label == "neg" else 1, int(name))


def _read_folder(root: Path, split: str) -> Reviews:
    rows = []
    for label in ("neg", "pos"):
        folder = root / split / label
        if not folder.is_dir():
            raise DataError(f"{folder} is missing. {HELP}")
        files = sorted(folder.glob("*_*.txt"), key=lambda p: _sort_key(label, p.name.split("_")[0]))
        rows += [(int(label == "pos"), p.read_text(encoding="utf-8")) for p in files]
    return _from_rows(rows, str(root / split))


def _read_archive(path: Path) -> dict[str, Reviews]:
    found: dict[str, list[tuple[tuple[int, int], int, str]]] = {s: [] for s in SPLITS}
    try:
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                match = _MEMBER.search(member.name)
                if not match or not member.isfile():
                    continue
                split, label, review_id, _ = match.groups()
                raw = archive.extractfile(member).read()  # type: ignore[union-attr]
                found[split].append((_sort_key(label, review_id), int(label == "pos"), raw.decode("utf-8")))
    except (tarfile.TarError, OSError, EOFError, UnicodeDecodeError) as exc:
        raise DataError(f"Could not read the archive {path}: {exc}. {HELP}") from exc
    return {s: _from_rows([(l, t) for _, l, t in sorted(found[s])], f"{path}:{s}") for s in SPLITS}


def load_imdb(path: Path) -> dict[str, Reviews]:
    """Load both splits from ``path`` in whichever form it has; a clear DataError otherwise."""
    if not path.exists():
        raise DataError(f"The data path {path} does not exist. {HELP}")
    if path.is_file():
        if path.name.endswith((".tar.gz", ".tgz", ".tar")):
            return _read_archive(path)
        raise DataError(f"{path} is a file but not a .tar.gz archive. {HELP}")
    if all((path / f"{s}.csv.gz").is_file() for s in SPLITS):
        return {s: _read_csv(path / f"{s}.csv.gz") for s in SPLITS}
    for root in (path, path / "aclImdb"):
        if (root / "train").is_dir() and (root / "test").is_dir():
            return {s: _read_folder(root, s) for s in SPLITS}
    archive = path / "aclImdb_v1.tar.gz"
    if archive.is_file():
        return _read_archive(archive)
    raise DataError(f"No IMDB data found in {path}. {HELP}")


def stratified_sample(reviews: Reviews, n: int, seed: int) -> Reviews:
    """A random sample of ``n`` reviews with the label balance of the whole split, in random order."""
    if n >= len(reviews):
        return reviews
    rng = np.random.default_rng(seed)
    picked = []
    for label in np.unique(reviews.labels):
        members = np.flatnonzero(reviews.labels == label)
        share = round(n * len(members) / len(reviews))
        picked.append(rng.choice(members, size=share, replace=False))
    index = np.concatenate(picked)
    rng.shuffle(index)
    return reviews.take(index)


def shuffled(reviews: Reviews, seed: int) -> Reviews:
    """The same reviews in a seeded random order (the files are sorted by label)."""
    index = np.random.default_rng(seed).permutation(len(reviews))
    return reviews.take(index)

