"""Read the IMDB reviews from any of the forms a user may have.

Forms: the ``aclImdb_v1.tar.gz`` archive, the extracted ``aclImdb/`` folder, or a folder holding
``train.csv.gz`` and ``test.csv.gz`` (columns ``id,rating,label,text``), optionally with
``unsup.csv.gz`` (``id,text``) and ``movies.csv.gz`` (``split,label,id,movie``) beside them.
The movie of each review matters because reviews of one film share names and plot words: a
validation part cut at random from the training set is easier than the test set, whose films are
others. :func:`split_by_movie` keeps every film on one side.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import re
import tarfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold, train_test_split

from sentiment_app.errors import DataError

SPLITS = ("train", "test")
LABELED = ("neg", "pos")  # folder names of label 0 and 1
UNSUP = ("train", "unsup")  # where the official archive keeps the unlabeled reviews
ARCHIVE, CSV, FOLDER = "archive", "csv", "folder"
_MEMBER = re.compile(r"(?:^|/)aclImdb/(train|test)/(pos|neg|unsup)/(\d+)_\d+\.txt$")
_URLS = re.compile(r"(?:^|/)aclImdb/(train|test)/urls_(pos|neg|unsup)\.txt$")
_TITLE = re.compile(r"/title/(tt\d+)")
HELP = (
    "Point --data (or SENTIMENT_APP_DATA) at one of: the aclImdb_v1.tar.gz archive, the extracted "
    "aclImdb/ folder (with train/pos, train/neg, test/pos, test/neg), or a folder with "
    "train.csv.gz and test.csv.gz (columns id,rating,label,text). Leave it unset to download."
)
UNSUP_MISSING = ("This step needs the 50,000 unlabeled reviews (aclImdb/train/unsup/ or unsup.csv.gz beside "
                 "train.csv.gz); none found in {path}")

Folder = tuple[str, str]  # (split, pos|neg|unsup)


@dataclass(frozen=True)
class Reviews:
    """One split: review texts, labels (1 = positive, 0 = negative) and, when known, the IMDb id of
    each review's movie (``groups``), all row-aligned."""

    texts: list[str]
    labels: np.ndarray
    groups: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def fingerprint(self, groups: bool = False) -> str:
        """A content hash, so caches follow the data and not its file names; ``groups`` adds the
        movies, for caches whose content holds them."""
        digest = hashlib.sha256()
        for text, label in zip(self.texts, self.labels.tolist()):
            digest.update(b"%d\x00" % label)
            digest.update(text.encode("utf-8"))
            digest.update(b"\x00")
        if groups and self.groups is not None:
            digest.update("\x00".join(self.groups.tolist()).encode("utf-8"))
        return digest.hexdigest()

    def take(self, index: np.ndarray) -> "Reviews":
        groups = None if self.groups is None else self.groups[index]
        return Reviews([self.texts[i] for i in index.tolist()], self.labels[index], groups)


def concatenate(parts: Sequence[Reviews]) -> Reviews:
    """The parts one after the other; movies only when every part knows them."""
    groups = None if any(p.groups is None for p in parts) else np.concatenate([p.groups for p in parts])
    return Reviews([t for p in parts for t in p.texts], np.concatenate([p.labels for p in parts]), groups)


def _reviews(rows: list[tuple[int, str, str]], where: str) -> Reviews:
    """``(label, text, movie or "")`` rows as Reviews, with movies only when every row has one."""
    if not rows:
        raise DataError(f"No reviews found in {where}. {HELP}")
    labels, texts, movies = zip(*rows)
    return Reviews(list(texts), np.array(labels, dtype=np.int64), np.array(movies) if all(movies) else None)


def _csv_rows(path: Path, columns: set[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line number, row)`` of a gzipped CSV whose header has ``columns``; a DataError if unreadable."""
    try:
        with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            missing = columns - set(reader.fieldnames or [])
            if missing:
                raise DataError(f"{path} lacks the column(s) {sorted(missing)}. {HELP}")
            yield from enumerate(reader, start=2)
    except (OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"Could not read {path}: {exc}. {HELP}") from exc


def _read_movies(path: Path) -> dict[tuple[str, str, str], str]:
    """``movies.csv.gz`` as (split, label, id) → IMDb title id; empty when the file is absent."""
    if not path.is_file():
        return {}
    return {(r["split"], r["label"], r["id"]): r["movie"]
            for _, r in _csv_rows(path, {"split", "label", "id", "movie"})}


def _read_csv(path: Path, split: str, movies: dict[tuple[str, str, str], str]) -> Reviews:
    rows = []
    for line, row in _csv_rows(path, {"label", "text"}):
        if row["label"] not in ("0", "1") or row["text"] is None:
            raise DataError(f"{path} line {line}: label must be 0 or 1 and text present.")
        rows.append((int(row["label"]), row["text"], movies.get((split, row["label"], row.get("id") or ""), "")))
    return _reviews(rows, str(path))


def _read_unsup_csv(path: Path) -> list[str]:
    rows = []
    for line, row in _csv_rows(path, {"id", "text"}):
        if not row["id"].isdigit() or row["text"] is None:
            raise DataError(f"{path} line {line}: id must be a number and text present.")
        rows.append((int(row["id"]), row["text"]))
    return [text for _, text in sorted(rows)]


def _movie_ids(urls: str) -> list[str]:
    """The title id on each line of a ``urls_*.txt`` file (line i is review i's movie; "" if none)."""
    return [m.group(1) if (m := _TITLE.search(line)) else "" for line in urls.splitlines()]


@dataclass(frozen=True)
class _Tree:
    """What an ``aclImdb/`` tree holds: texts per folder by review id, movie ids per folder by line."""

    texts: dict[Folder, dict[int, str]]
    movies: dict[Folder, list[str]]

    def labeled(self, where: str) -> dict[str, Reviews]:
        """Both labeled splits, each sorted by label (negative first), then by id."""
        return {split: _reviews([(label, self.texts[(split, kind)][i], self._movie(split, kind, i))
                                 for label, kind in enumerate(LABELED)
                                 for i in sorted(self.texts.get((split, kind), {}))], f"{where}:{split}")
                for split in SPLITS}

    def unlabeled(self) -> list[str]:
        return [text for _, text in sorted(self.texts.get(UNSUP, {}).items())]

    def _movie(self, split: str, kind: str, review_id: int) -> str:
        movies = self.movies.get((split, kind), [])
        return movies[review_id] if review_id < len(movies) else ""


def _scan_archive(path: Path, kinds: tuple[str, ...]) -> _Tree:
    """One pass over the archive: the reviews of the ``kinds`` folders and every ``urls_*.txt``."""
    tree = _Tree({}, {})
    try:
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                review, urls = _MEMBER.search(member.name), _URLS.search(member.name)
                if not member.isfile() or not (urls or (review and review.group(2) in kinds)):
                    continue
                raw = archive.extractfile(member).read().decode("utf-8")  # type: ignore[union-attr]
                if urls:
                    tree.movies[(urls.group(1), urls.group(2))] = _movie_ids(raw)
                else:
                    split, kind, review_id = review.groups()  # type: ignore[union-attr]
                    tree.texts.setdefault((split, kind), {})[int(review_id)] = raw
    except (tarfile.TarError, OSError, EOFError, UnicodeDecodeError) as exc:
        raise DataError(f"Could not read the archive {path}: {exc}. {HELP}") from exc
    return tree


def _read_tree(root: Path, folders: list[Folder]) -> _Tree:
    """The ``folders`` of an extracted ``aclImdb/`` tree at ``root``, and their ``urls_*.txt``."""
    tree = _Tree({}, {})
    for split, kind in folders:
        folder = root / split / kind
        if not folder.is_dir():
            raise DataError(f"{folder} is missing. {HELP}")
        tree.texts[(split, kind)] = {int(p.name.split("_")[0]): p.read_text(encoding="utf-8")
                                     for p in folder.glob("*_*.txt")}
        urls = root / split / f"urls_{kind}.txt"
        if urls.is_file():
            tree.movies[(split, kind)] = _movie_ids(urls.read_text(encoding="utf-8"))
    return tree


def _locate(path: Path) -> tuple[str, Path] | None:
    """The form of the data at ``path`` and where it lies; None when ``path`` holds none."""
    if not path.exists():
        raise DataError(f"The data path {path} does not exist. {HELP}")
    if path.is_file():
        if path.name.endswith((".tar.gz", ".tgz", ".tar")):
            return ARCHIVE, path
        raise DataError(f"{path} is a file but not a .tar.gz archive. {HELP}")
    if all((path / f"{s}.csv.gz").is_file() for s in SPLITS):
        return CSV, path
    for root in (path, path / "aclImdb"):
        if (root / "train").is_dir() and (root / "test").is_dir():
            return FOLDER, root
    archive = path / "aclImdb_v1.tar.gz"
    return (ARCHIVE, archive) if archive.is_file() else None


def load_imdb(path: Path) -> dict[str, Reviews]:
    """Load both labeled splits from ``path`` in whichever form it has; a clear DataError otherwise.

    Each split carries its reviews' movies (``groups``) when the data has a movie for every review.
    """
    found = _locate(path)
    if found is None:
        raise DataError(f"No IMDB data found in {path}. {HELP}")
    form, where = found
    if form == CSV:
        movies = _read_movies(where / "movies.csv.gz")
        return {s: _read_csv(where / f"{s}.csv.gz", s, movies) for s in SPLITS}
    if form == FOLDER:
        return _read_tree(where, [(s, kind) for s in SPLITS for kind in LABELED]).labeled(str(where))
    return _scan_archive(where, LABELED).labeled(str(where))


def load_unsup(path: Path) -> list[str]:
    """The 50,000 unlabeled reviews (official ``train/unsup/``), sorted by id: for unsupervised
    learning only. A one-line DataError when the data at ``path`` lacks them."""
    found = _locate(path)
    texts: list[str] = []
    if found is not None:
        form, where = found
        if form == CSV and (where / "unsup.csv.gz").is_file():
            texts = _read_unsup_csv(where / "unsup.csv.gz")
        elif form == FOLDER and (where / UNSUP[0] / UNSUP[1]).is_dir():
            texts = _read_tree(where, [UNSUP]).unlabeled()
        elif form == ARCHIVE:
            texts = _scan_archive(where, (UNSUP[1],)).unlabeled()
    if not texts:
        raise DataError(UNSUP_MISSING.format(path=path))
    return texts


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


def split_by_movie(reviews: Reviews, fraction: float, seed: int) -> tuple[Reviews, Reviews]:
    """A seeded ``(fit, validation)`` split holding out about ``fraction`` of the reviews, every movie
    on one side and the labels balanced as far as whole movies allow, so validation accuracy
    predicts accuracy on unseen films. Without movies (or with fewer movies than folds) it falls
    back to a stratified random split. Both parts keep the reviews' order."""
    folds = max(2, round(1 / fraction))
    if reviews.groups is None or len(np.unique(reviews.groups)) < folds:
        fit, val = train_test_split(np.arange(len(reviews)), test_size=fraction, random_state=seed,
                                    stratify=reviews.labels)
    else:
        splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
        fit, val = next(splitter.split(np.zeros(len(reviews)), reviews.labels, reviews.groups))
    return reviews.take(np.sort(fit)), reviews.take(np.sort(val))
