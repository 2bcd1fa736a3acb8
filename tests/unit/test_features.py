"""Cleaning, tokenizing, dictionary and padding, checked against the original notebook's code. (On real
reviews: ``tests/system/test_features.py``.)"""

from __future__ import annotations

import numpy as np
import pytest

from sentiment_app.features.encode import convert_and_pad, encode_rows
from sentiment_app.features.text import Tokenizer, split_words, stopwords
from sentiment_app.features.vocab import build_vocab
from tests.data_support import notebook_review_to_words


def test_stopwords_are_nltk_english_list() -> None:
    words = stopwords()
    assert len(words) == 179
    assert {"not", "no", "don't", "the", "wouldn't"} <= words


def test_html_removed_without_spaces_and_entities_decoded() -> None:
    assert split_words("Great<br /><br />movie &amp; fun") == ["greatmovie", "fun"]


def test_tokenizer_removes_stopwords_and_stems() -> None:
    assert Tokenizer()("I don't like these entertaining movies!") == ["like", "entertain", "movi"]


def test_non_ascii_letters_split_words_like_the_original() -> None:
    assert Tokenizer()("Café naïve Ωmega 10/10") == notebook_review_to_words("Café naïve Ωmega 10/10")
    assert Tokenizer()("Café") == ["caf"]


def test_empty_and_punctuation_only_reviews() -> None:
    assert Tokenizer()("") == []
    assert Tokenizer()("<p>!!! ... ???</p>") == []


def test_vocab_reserves_0_and_1_ranks_by_frequency_and_limits_size() -> None:
    vocab = build_vocab([["b", "a", "a", "c"], ["c", "a", "d"]], vocab_size=4)
    assert vocab == {"a": 2, "c": 3}  # a:3, c:2, then b/d (1 each) do not fit in 4 - 2 slots
    assert build_vocab([["z", "y"]], vocab_size=10) == {"y": 2, "z": 3}  # ties alphabetical
    with pytest.raises(ValueError):
        build_vocab([], vocab_size=2)


def test_convert_and_pad_pads_truncates_and_marks_unknown_words() -> None:
    vocab = {"good": 2, "film": 3}
    row, length = convert_and_pad(vocab, ["good", "unknown", "film"], pad=5)
    assert row.tolist() == [2, 1, 3, 0, 0] and length == 3
    row, length = convert_and_pad(vocab, ["good"] * 600)
    assert length == 500 and row.shape == (500,) and (row == 2).all()
    row, length = convert_and_pad(vocab, [])
    assert length == 0 and not row.any()


def test_encode_rows_layout_is_length_then_ids() -> None:
    rows = encode_rows({"a": 2}, [["a", "b"], []], pad=4)
    assert rows.dtype == np.int64
    assert rows.tolist() == [[2, 2, 1, 0, 0], [0, 0, 0, 0, 0]]
