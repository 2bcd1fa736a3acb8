"""The feature step: reviews → word dictionary + ``label, length, review[500]`` CSVs in the store.

Tokenizing runs on every core with one stem cache per worker; the result is cached in the store
under a key made from the data's content and the settings, so a second run only checks the key.
The text models read a second form, :func:`prepare_text`: ``label,text`` CSV rows of the cleaned
reviews (``label,text,movie`` when the movies are known, for a validation split by movie), cached
the same way. Extra labeled reviews (``splits["extra"]``, e.g. exported feedback) become a file of
their own in the training channel, ``extra.csv``: training rows that are never held out.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from sentiment_app.data.dataset import Reviews
from sentiment_app.errors import DataError
from sentiment_app.features.encode import PAD_LENGTH, encode_rows
from sentiment_app.features.text import Tokenizer
from sentiment_app.features.tokens import clean_text
from sentiment_app.features.vocab import VOCAB_SIZE, build_vocab
from sentiment_app.fileio import atomic_open, sha256_file
from sentiment_app.store import ArtifactStore

FEATURES_VERSION = 1
TEXT_VERSION = 2  # 2: a third column, the movie, when the reviews' movies are known
PREFIX = "sagemaker/sentiment_rnn"
TEXT_PREFIX = "sagemaker/sentiment_text"
ROWS, TEXT = "rows", "text"
EXTRA = "extra"  # the split of extra labeled reviews, added to the training data
EXTRA_FILE = "extra.csv"  # its file in the training channel
CHUNK = 1000

_tokenizer: Tokenizer | None = None


def _tokenize_chunk(texts: list[str]) -> list[str]:
    """Worker side: stems joined by spaces (one string per review pickles far faster than lists)."""
    global _tokenizer
    if _tokenizer is None:
        _tokenizer = Tokenizer()
    return [" ".join(_tokenizer(text)) for text in texts]


def tokenize_all(texts: list[str], workers: int, desc: str = "tokenize") -> list[list[str]]:
    """Stem lists for all ``texts``, in order, using ``workers`` processes (1 = in-process)."""
    chunks = [texts[i : i + CHUNK] for i in range(0, len(texts), CHUNK)]
    out: list[list[str]] = []
    with tqdm(total=len(texts), desc=desc, unit="review") as bar:
        if workers <= 1:
            results = map(_tokenize_chunk, chunks)
            pool = None
        else:
            pool = ProcessPoolExecutor(max_workers=workers)
            results = pool.map(_tokenize_chunk, chunks)
        try:
            for chunk in results:
                out.extend(joined.split() for joined in chunk)
                bar.update(len(chunk))
        finally:
            if pool is not None:
                pool.shutdown()
    return out


@dataclass(frozen=True)
class FeatureSettings:
    vocab_size: int = VOCAB_SIZE
    pad: int = PAD_LENGTH


@dataclass(frozen=True)
class PreparedData:
    """Where the processed data of one (data, settings) pair lives in the store."""

    prefix: str
    fingerprint: str
    vocab_size: int
    pad: int
    train_rows: int
    test_rows: int
    kind: str = ROWS  # "rows": label, length, review[pad] + word_dict.json; "text": label,text
    extra_rows: int = 0  # extra labeled reviews in the training channel's extra.csv

    @property
    def channels(self) -> dict[str, dict[str, str]]:
        """The training job's channels: file name → store key."""
        training = {"train.csv": self.train_key}
        if self.kind == ROWS:
            training["word_dict.json"] = self.vocab_key
        if self.extra_rows:
            training[EXTRA_FILE] = self.extra_key
        return {"training": training, "validation": {"test.csv": self.test_key}}

    @property
    def train_key(self) -> str:
        return f"{self.prefix}/train.csv"

    @property
    def test_key(self) -> str:
        return f"{self.prefix}/test.csv"

    @property
    def extra_key(self) -> str:
        return f"{self.prefix}/{EXTRA_FILE}"

    @property
    def vocab_key(self) -> str:
        return f"{self.prefix}/word_dict.json"

    @property
    def meta_key(self) -> str:
        return f"{self.prefix}/meta.json"


def _digest(settings: dict, splits: dict[str, Reviews], groups: bool = False) -> str:
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for name in sorted(splits):
        digest.update(name.encode() + splits[name].fingerprint(groups).encode())
    return digest.hexdigest()


def fingerprint(splits: dict[str, Reviews], features: FeatureSettings) -> str:
    """The rows channel's cache key: its version, its settings and the reviews."""
    return _digest({"v": FEATURES_VERSION, **asdict(features)}, splits)


def text_fingerprint(splits: dict[str, Reviews]) -> str:
    """The text channel's cache key: its version and the reviews with their movies (it holds both)."""
    return _digest({"text": TEXT_VERSION}, splits, groups=True)


def write_rows(path: Path, labels: np.ndarray, rows: np.ndarray) -> None:
    """``label, length, review[pad]`` per line, no header, as the SageMaker channel expects."""
    table = np.column_stack([labels, rows]).tolist()
    with atomic_open(path, "w") as f:
        f.writelines(",".join(map(str, row)) + "\n" for row in table)


def read_rows(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`write_rows`: ``(labels, rows[length, ids...])``."""
    table = np.loadtxt(path, delimiter=",", dtype=np.int64, ndmin=2)
    return table[:, 0], table[:, 1:]


def write_texts(path: Path, reviews: Reviews) -> None:
    """``label,text`` per line, plus ``,movie`` when the movies are known (CSV quoting, no header):
    the text channel."""
    labels, texts = reviews.labels.tolist(), map(clean_text, tqdm(reviews.texts, desc="text channel", unit="review"))
    rows = zip(labels, texts) if reviews.groups is None else zip(labels, texts, reviews.groups.tolist())
    with atomic_open(path, "w") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def read_texts(path: Path) -> Reviews:
    """Inverse of :func:`write_texts`; a file without the movie column (older ones) gives no groups.
    A row that is not ``label,text[,movie]`` with label 0 or 1 is a DataError naming its line."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"Could not read {path}: {exc}") from exc
    for line, row in enumerate(rows, start=1):
        if len(row) not in (2, 3) or row[0] not in ("0", "1"):
            raise DataError(f"{path} line {line}: expected label,text rows with label 1 (positive) or 0 (negative).")
    groups = np.array([row[2] for row in rows]) if rows and all(len(row) == 3 for row in rows) else None
    return Reviews([row[1] for row in rows], np.array([int(row[0]) for row in rows], dtype=np.int64), groups)


def extra_record(channel: Path) -> dict | None:
    """What a training job records of its channel's extra reviews (rows, and the file's SHA-256 as
    their fingerprint); None without any."""
    path = channel / EXTRA_FILE
    if not path.is_file():
        return None
    with open(path, "rb") as f:
        rows = sum(1 for _ in f)
    return {"rows": rows, "sha256": sha256_file(path)}


def _split_keys(prepared: PreparedData) -> dict[str, str]:
    """Split name → store key of its channel file."""
    return {"train": prepared.train_key, "test": prepared.test_key, **({EXTRA: prepared.extra_key}
                                                                       if prepared.extra_rows else {})}


def prepare_text(store: ArtifactStore, splits: dict[str, Reviews]) -> PreparedData:
    """Build (or find cached) the text channel for ``splits`` (``train``, ``test`` and optionally
    ``extra``) in ``store``."""
    digest = text_fingerprint(splits)
    prefix = f"{TEXT_PREFIX}/{digest[:16]}"
    if store.exists(f"{prefix}/meta.json"):
        return PreparedData(**json.loads(store.read_bytes(f"{prefix}/meta.json")))
    prepared = PreparedData(prefix, digest, 0, 0, len(splits["train"]), len(splits["test"]), kind=TEXT,
                            extra_rows=len(splits.get(EXTRA, ())))
    with tempfile.TemporaryDirectory() as tmp:
        for name, key in _split_keys(prepared).items():
            write_texts(Path(tmp) / f"{name}.csv", splits[name])
            store.put_file(key, Path(tmp) / f"{name}.csv")
    store.put_bytes(prepared.meta_key, json.dumps(asdict(prepared), indent=2).encode())  # last: marks complete
    return prepared


def prepare_features(
    store: ArtifactStore,
    splits: dict[str, Reviews],
    features: FeatureSettings = FeatureSettings(),
    workers: int | None = None,
) -> PreparedData:
    """Build (or find cached) processed data for ``splits`` (``train``, ``test`` and optionally
    ``extra``, whose words count for the dictionary as the training reviews' do) in ``store``."""
    digest = fingerprint(splits, features)
    meta_key = f"{PREFIX}/{digest[:16]}/meta.json"
    if store.exists(meta_key):
        return PreparedData(**json.loads(store.read_bytes(meta_key)))
    workers = workers or os.cpu_count() or 1
    tokens = {name: tokenize_all(reviews.texts, workers, desc=f"features {name}") for name, reviews in splits.items()}
    vocab = build_vocab(tokens["train"] + tokens.get(EXTRA, []), features.vocab_size)
    prepared = PreparedData(
        prefix=f"{PREFIX}/{digest[:16]}",
        fingerprint=digest,
        vocab_size=features.vocab_size,
        pad=features.pad,
        train_rows=len(splits["train"]),
        test_rows=len(splits["test"]),
        extra_rows=len(splits.get(EXTRA, ())),
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name, key in _split_keys(prepared).items():
            path = Path(tmp) / f"{name}.csv"
            write_rows(path, splits[name].labels, encode_rows(vocab, tokens[name], features.pad))
            store.put_file(key, path)
    store.put_bytes(prepared.vocab_key, json.dumps(vocab, ensure_ascii=False).encode("utf-8"))
    store.put_bytes(prepared.meta_key, json.dumps(asdict(prepared), indent=2).encode())  # last: marks complete
    return prepared
