"""Extra labeled reviews (``train --extra-data``): they reach the training channel as ``extra.csv``, the
model is fitted on them (never holding them out), and the model and its registry version record them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sentiment_app.artifacts.versions import register
from sentiment_app.data.dataset import Reviews
from sentiment_app.errors import DataError
from sentiment_app.features.encode import encode_rows
from sentiment_app.features.prepare import (EXTRA, EXTRA_FILE, FeatureSettings, prepare_features, prepare_text,
                                            read_texts, write_rows, write_texts)
from sentiment_app.features.text import Tokenizer
from sentiment_app.features.vocab import build_vocab
from sentiment_app.inference.model import SentimentModel
from sentiment_app.pipeline import extra_reviews
from sentiment_app.settings import Settings
from sentiment_app.store.local import LocalStore
from sentiment_app.training.train import main as train_main

WORDS = ["good", "great", "fine", "bad", "awful", "dull", "plot", "acting", "film", "story", "ending", "cast"]
NEW_POSITIVE, NEW_NEGATIVE = "zorblaxian", "quibbletrox"  # words no training review has


def reviews(count: int, seed: int, movies: bool = True) -> Reviews:
    """Short made-up reviews, half positive ("good great ..."), half negative, with a movie each."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % 2
    texts = [" ".join(rng.choice(WORDS[:3] if label else WORDS[3:6], 3).tolist() + rng.choice(WORDS[6:], 4).tolist())
             for label in labels]
    groups = np.array([f"tt{i // 2}" for i in range(count)]) if movies else None
    return Reviews(texts, labels.astype(np.int64), groups)


def extra(count: int = 12) -> Reviews:
    """Feedback-like reviews of the made-up words: positive for one, negative for the other."""
    texts = [f"{NEW_POSITIVE} {NEW_POSITIVE} film" if i % 2 else f"{NEW_NEGATIVE} {NEW_NEGATIVE} film"
             for i in range(count)]
    return Reviews(texts, (np.arange(count) % 2).astype(np.int64))


def test_text_channel_holds_the_extra_reviews_in_the_training_channel_only(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    splits = {"train": reviews(40, 1), "test": reviews(10, 2)}
    plain = prepare_text(store, splits)
    with_extra = prepare_text(store, {**splits, EXTRA: extra()})
    assert plain.extra_rows == 0 and EXTRA_FILE not in plain.channels["training"]
    assert with_extra.prefix != plain.prefix and with_extra.extra_rows == 12
    assert with_extra.channels["training"][EXTRA_FILE] == with_extra.extra_key
    assert EXTRA_FILE not in with_extra.channels["validation"]
    store.get_file(with_extra.extra_key, tmp_path / "extra.csv")
    assert read_texts(tmp_path / "extra.csv").texts == extra().texts
    assert prepare_text(store, {**splits, EXTRA: extra()}) == with_extra  # cached by content


def test_rows_channel_encodes_extra_reviews_with_their_words_in_the_dictionary(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    prepared = prepare_features(store, {"train": reviews(40, 1), "test": reviews(10, 2), EXTRA: extra()},
                                FeatureSettings(vocab_size=50, pad=8), workers=1)
    vocab = json.loads(store.read_bytes(prepared.vocab_key))
    stem = Tokenizer()(NEW_POSITIVE)[0]
    assert stem in vocab
    store.get_file(prepared.extra_key, tmp_path / "extra.csv")
    rows = np.loadtxt(tmp_path / "extra.csv", delimiter=",", dtype=np.int64, ndmin=2)
    assert rows.shape == (12, 10) and rows[1, 0] == 1 and rows[1, 2] == vocab[stem]


def train_nbsvm(channel: Path, model_dir: Path) -> SentimentModel:
    train_main(["--family", "nbsvm", "--hash-bits", "14", "--data-dir", str(channel), "--model-dir", str(model_dir),
                "--checkpoint-dir", str(model_dir.parent / "checkpoints")])
    return SentimentModel.load(model_dir)


def test_text_family_fits_the_extra_reviews_and_never_holds_them_out(tmp_path: Path) -> None:
    train = reviews(60, 3)
    write_texts(tmp_path / "plain" / "train.csv", train)
    write_texts(tmp_path / "with" / "train.csv", train)
    write_texts(tmp_path / "with" / EXTRA_FILE, extra())
    plain, with_extra = (train_nbsvm(tmp_path / name, tmp_path / f"{name}-model") for name in ("plain", "with"))
    assert with_extra.metrics["validation_rows"] == plain.metrics["validation_rows"] == 6  # from train.csv alone
    assert with_extra.metrics["train_rows"] == plain.metrics["train_rows"] + 12
    assert plain.metrics["extra_data"] is None
    assert with_extra.metrics["extra_data"]["rows"] == 12 and len(with_extra.metrics["extra_data"]["sha256"]) == 64
    probe = [f"{NEW_POSITIVE} {NEW_POSITIVE}", f"{NEW_NEGATIVE} {NEW_NEGATIVE}"]
    learned, unseen = with_extra.predict_proba(probe), plain.predict_proba(probe)
    assert learned[0] > 0.5 > learned[1]  # only the extra reviews teach these words
    assert abs(unseen[0] - unseen[1]) < abs(learned[0] - learned[1]) / 4

    versions = Settings(home=tmp_path / "home")
    assert "extra_data" not in register(versions, tmp_path / "plain-model")
    assert register(versions, tmp_path / "with-model")["extra_data"] == with_extra.metrics["extra_data"]


def test_rows_family_trains_on_the_extra_rows(tmp_path: Path) -> None:
    tokenize = Tokenizer()
    train, more = reviews(30, 4, movies=False), extra(6)
    vocab = build_vocab([tokenize(t) for t in train.texts + more.texts], 40)
    channel = tmp_path / "channel"
    for name, part in (("train.csv", train), (EXTRA_FILE, more)):
        write_rows(channel / name, part.labels, encode_rows(vocab, [tokenize(t) for t in part.texts], 8))
    (channel / "word_dict.json").write_text(json.dumps(vocab))
    train_main(["--epochs", "1", "--embedding-dim", "4", "--hidden-dim", "4", "--vocab-size", "40",
                "--data-dir", str(channel), "--model-dir", str(tmp_path / "model"),
                "--checkpoint-dir", str(tmp_path / "checkpoints")])
    metrics = json.loads((tmp_path / "model" / "metrics.json").read_text())
    assert metrics["train_rows"] == 36 and metrics["extra_data"]["rows"] == 6


def test_extra_data_files_must_be_label_text_rows(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("1,fine\npositive,great film\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 2"):
        extra_reviews(tmp_path / "bad.csv")
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="no reviews"):
        extra_reviews(tmp_path / "empty.csv")
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(DataError, match="Could not read"):
        extra_reviews(tmp_path / "binary.csv")
