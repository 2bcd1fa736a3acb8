"""The tokenizer against the original notebook's code on real reviews."""

from __future__ import annotations

from sentiment_app.data.dataset import load_imdb
from sentiment_app.features.text import Tokenizer
from tests.data_support import notebook_review_to_words


def test_matches_notebook_on_real_reviews(real_data) -> None:
    reviews = load_imdb(real_data)["test"].texts[::97][:250]
    tokenize = Tokenizer()
    for review in reviews:
        assert tokenize(review) == notebook_review_to_words(review)
