"""The unlabeled reviews, each review's movie in every data form, the split by movie, and the movies
reaching the training entry point through the text channel."""

from __future__ import annotations

import csv
import gzip
import io
import tarfile
from pathlib import Path

import numpy as np
import pytest

from sentiment_app.data.dataset import (
    Reviews,
    load_imdb,
    load_unsup,
    shuffled,
    split_by_movie,
    stratified_sample,
)
from sentiment_app.errors import DataError
from sentiment_app.features.prepare import (
    FeatureSettings,
    fingerprint,
    prepare_text,
    read_texts,
    text_fingerprint,
    write_texts,
)
from sentiment_app.store.local import LocalStore
from sentiment_app.training.fit_text import load_text_channel

# (split, folder) → the movie of review 0, 1, 2, ... (ids 0..11 so that "10" sorts after "9")
MOVIES = {
    ("train", "neg"): ["tt01", "tt01", "tt02", "tt03"],
    ("train", "pos"): ["tt02", "tt04", "tt04"],
    ("test", "neg"): ["tt10", "tt11"],
    ("test", "pos"): ["tt11", "tt12", "tt13"],
    ("train", "unsup"): [f"tt2{i % 3}" for i in range(12)],
}
LABELS = {"neg": "0", "pos": "1", "unsup": ""}
RATINGS = {"neg": 3, "pos": 7, "unsup": 0}
URL = "http://www.imdb.com/title/{}/usercomments"


def text(split: str, kind: str, review_id: int) -> str:
    return f"{split} {kind} review {review_id}, with a comma and \"quotes\""


def files(movies: dict = MOVIES) -> dict[str, str]:
    """The ``aclImdb/`` tree as path → content, in a scrambled order (loaders must sort by id)."""
    tree = {}
    for (split, kind), titles in movies.items():
        for i in reversed(range(len(titles))):
            tree[f"aclImdb/{split}/{kind}/{i}_{RATINGS[kind]}.txt"] = text(split, kind, i)
        tree[f"aclImdb/{split}/urls_{kind}.txt"] = "".join(f"{URL.format(t)}\n" for t in titles)
    return tree


def make_folder(root: Path, tree: dict[str, str]) -> Path:
    for name, content in tree.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(content, encoding="utf-8")
    return root / "aclImdb"


def make_archive(path: Path, tree: dict[str, str]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, content in tree.items():
            data = content.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def write_csv_gz(path: Path, header: list[str], rows: list[list]) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    path.write_bytes(gzip.compress(buffer.getvalue().encode()))


def make_csv(folder: Path, unsup: bool = True, movies: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for split in ("train", "test"):
        rows = [[i, RATINGS[kind], LABELS[kind], text(split, kind, i)]
                for kind in ("neg", "pos") for i in range(len(MOVIES[(split, kind)]))]
        write_csv_gz(folder / f"{split}.csv.gz", ["id", "rating", "label", "text"], rows)
    if unsup:
        write_csv_gz(folder / "unsup.csv.gz", ["id", "text"],
                     [[i, text("train", "unsup", i)] for i in reversed(range(12))])
    if movies:
        write_csv_gz(folder / "movies.csv.gz", ["split", "label", "id", "movie"],
                     [[split, LABELS[kind], i, movie]
                      for (split, kind), titles in MOVIES.items() for i, movie in enumerate(titles)])
    return folder


FORMS = {
    "archive": lambda tmp: make_archive(tmp / "aclImdb_v1.tar.gz", files()),
    "folder": lambda tmp: make_folder(tmp, files()),
    "csv": lambda tmp: make_csv(tmp / "csv"),
}


@pytest.mark.parametrize("form", list(FORMS))
def test_every_form_gives_each_review_its_movie(tmp_path: Path, form: str) -> None:
    splits = load_imdb(FORMS[form](tmp_path))
    for split, reviews in splits.items():
        kinds = [(kind, i) for kind in ("neg", "pos") for i in range(len(MOVIES[(split, kind)]))]
        assert reviews.texts == [text(split, kind, i) for kind, i in kinds]
        assert reviews.labels.tolist() == [int(kind == "pos") for kind, _ in kinds]
        assert reviews.groups.tolist() == [MOVIES[(split, kind)][i] for kind, i in kinds]


@pytest.mark.parametrize("form", list(FORMS))
def test_every_form_gives_the_unlabeled_reviews_sorted_by_id(tmp_path: Path, form: str) -> None:
    assert load_unsup(FORMS[form](tmp_path)) == [text("train", "unsup", i) for i in range(12)]


def test_groups_are_absent_unless_every_review_has_a_movie(tmp_path: Path) -> None:
    assert all(r.groups is None for r in load_imdb(make_csv(tmp_path / "csv", movies=False)).values())
    tree = files()
    tree["aclImdb/train/urls_pos.txt"] = URL.format("tt02") + "\n"  # reviews 1 and 2 have no movie
    splits = load_imdb(make_folder(tmp_path / "short-urls", tree))
    assert splits["train"].groups is None and splits["test"].groups is not None


@pytest.mark.parametrize("make", [
    lambda tmp: make_csv(tmp / "csv", unsup=False),
    lambda tmp: make_folder(tmp, {k: v for k, v in files().items() if "/unsup/" not in k}),
    lambda tmp: make_archive(tmp / "a.tar.gz", {k: v for k, v in files().items() if "/unsup/" not in k}),
])
def test_missing_unlabeled_reviews_give_one_clear_line(tmp_path: Path, make) -> None:
    path = make(tmp_path)
    with pytest.raises(DataError) as info:
        load_unsup(path)
    message = str(info.value)
    assert "50,000 unlabeled reviews" in message and str(path) in message and "\n" not in message
    assert load_imdb(path)["train"].groups is not None  # the labeled splits still load


def test_sampling_keeps_movies_aligned_with_texts(tmp_path: Path) -> None:
    train = load_imdb(make_csv(tmp_path))["train"]
    movie_of = dict(zip(train.texts, train.groups.tolist()))
    for part in (shuffled(train, seed=4), stratified_sample(train, 4, seed=2)):
        assert part.texts != train.texts[: len(part)]
        assert [movie_of[t] for t in part.texts] == part.groups.tolist()


def movie_reviews(movies: int = 40, per_movie: int = 5) -> Reviews:
    """Reviews of ``movies`` films; odd films are liked, even ones disliked, one in five reviews dissents."""
    ids = np.repeat(np.arange(movies), per_movie)
    labels = (ids % 2) ^ (np.arange(len(ids)) % per_movie == 0)
    return Reviews([f"review {i}" for i in range(len(ids))], labels.astype(np.int64), np.array([f"tt{m}" for m in ids]))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_split_by_movie_keeps_every_movie_on_one_side(seed: int) -> None:
    reviews = movie_reviews()
    fit, val = split_by_movie(reviews, 0.25, seed)
    assert not set(fit.groups) & set(val.groups)
    assert sorted(fit.texts + val.texts) == sorted(reviews.texts)
    assert abs(len(val) - 0.25 * len(reviews)) <= 5  # whole movies of five reviews
    assert 0.4 <= val.labels.mean() <= 0.6
    assert fit.texts == sorted(fit.texts, key=reviews.texts.index)  # the channel's order kept
    assert split_by_movie(reviews, 0.25, seed)[1].texts == val.texts  # seeded


def test_split_without_movies_is_a_stratified_random_split() -> None:
    reviews = movie_reviews()
    fit, val = split_by_movie(Reviews(reviews.texts, reviews.labels), 0.25, seed=0)
    assert len(val) == 50 and int(val.labels.sum()) == int(reviews.labels.sum()) // 4
    assert val.groups is None and not set(fit.texts) & set(val.texts)
    movie_of = dict(zip(reviews.texts, reviews.groups.tolist()))
    assert {movie_of[t] for t in fit.texts} & {movie_of[t] for t in val.texts}  # what the movie split prevents


def test_text_channel_carries_movies_to_the_training_split(tmp_path: Path) -> None:
    reviews = movie_reviews()
    write_texts(tmp_path / "channel" / "train.csv", reviews)
    first = (tmp_path / "channel" / "train.csv").read_text().splitlines()[0]
    assert first == "1,review 0,tt0"
    loaded = load_text_channel(tmp_path / "channel")
    assert loaded.groups.tolist() == reviews.groups.tolist() and loaded.labels.tolist() == reviews.labels.tolist()
    fit, val = split_by_movie(loaded, 0.1, seed=3)
    assert not set(fit.groups) & set(val.groups)


def test_two_column_channel_files_still_read(tmp_path: Path) -> None:
    (tmp_path / "old.csv").write_text('1,"great, really"\n0,dull\n', encoding="utf-8")
    old = read_texts(tmp_path / "old.csv")
    assert old.texts == ["great, really", "dull"] and old.labels.tolist() == [1, 0] and old.groups is None


def test_text_channel_cache_follows_movies_and_version(tmp_path: Path) -> None:
    with_movies = {"train": movie_reviews(), "test": movie_reviews(4)}
    without = {name: Reviews(r.texts, r.labels) for name, r in with_movies.items()}
    assert fingerprint(with_movies, FeatureSettings()) == fingerprint(without, FeatureSettings())
    assert text_fingerprint(with_movies) != text_fingerprint(without)
    old_key = fingerprint(without, FeatureSettings(vocab_size=0, pad=0))  # the text channel's key before movies
    assert text_fingerprint(without) != old_key
    store = LocalStore(tmp_path / "store")
    prepared = prepare_text(store, with_movies)
    store.get_file(prepared.train_key, tmp_path / "train.csv")
    assert read_texts(tmp_path / "train.csv").groups.tolist() == with_movies["train"].groups.tolist()
    assert prepare_text(store, without).prefix != prepared.prefix
