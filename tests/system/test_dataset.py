"""The loader on the real data: the official split, sampling and shuffling."""

from __future__ import annotations

from pathlib import Path

from sentiment_app.data.dataset import load_imdb, shuffled, stratified_sample


def test_real_csv_pair_has_the_official_split(real_data: Path) -> None:
    splits = load_imdb(real_data)
    for reviews in splits.values():
        assert len(reviews) == 25_000 and int(reviews.labels.sum()) == 12_500
    assert splits["train"].texts[12_500].startswith("Bromwell High is a cartoon comedy")


def test_stratified_sample_keeps_balance_and_shuffle_mixes_labels(real_data: Path) -> None:
    train = load_imdb(real_data)["train"]
    sample = stratified_sample(train, 1000, seed=3)
    assert len(sample) == 1000 and int(sample.labels.sum()) == 500
    mixed = shuffled(train, seed=1)
    assert 0.4 < mixed.labels[:1000].mean() < 0.6  # the file itself starts with 12,500 negatives
    assert sorted(mixed.texts[:50]) != mixed.texts[:50]
