"""The NBSVM's n-gram hasher: binary buckets per review, bounded cache. (Stable across processes:
``tests/system/test_ngrams.py``.)"""

from __future__ import annotations

import numpy as np
import pytest

from sentiment_app.features import ngrams
from sentiment_app.features.ngrams import NgramHasher
from tests.support import NGRAM_REVIEWS


def buckets(hasher: NgramHasher, texts: list[str]) -> list[set[int]]:
    review, bucket = hasher.pairs(texts)
    return [set(bucket[review == i].tolist()) for i in range(len(texts))]


def test_each_review_gets_its_distinct_ngrams_and_no_ngram_spans_two_reviews() -> None:
    hasher = NgramHasher(3, 20)
    together = buckets(hasher, NGRAM_REVIEWS)
    assert together == [buckets(hasher, [text])[0] for text in NGRAM_REVIEWS]  # batching changes nothing
    # "not good . not good at all !": 8 + 7 + 6 n-grams, of which "not", "good" and "not good"
    # repeat: 6 distinct unigrams, 6 bigrams and 6 trigrams.
    assert len(together[0]) == 18 and together[2] == set()
    assert len(buckets(NgramHasher(1, 20), ["not good not good"])[0]) == 2


def test_matrix_is_binary_and_dot_agrees_with_it() -> None:
    hasher = NgramHasher(2, 16)
    matrix = hasher.matrix(NGRAM_REVIEWS, chunk=3)  # chunks: rows keep their place
    assert matrix.shape == (4, 2**16) and set(matrix.data.tolist()) == {1.0}
    assert [set(matrix[i].indices.tolist()) for i in range(4)] == buckets(hasher, NGRAM_REVIEWS)
    weight = np.random.default_rng(0).normal(size=2**16).astype(np.float32)
    np.testing.assert_allclose(hasher.dot(NGRAM_REVIEWS, weight), matrix @ weight, rtol=1e-5, atol=1e-5)


def test_word_cache_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ngrams, "MAX_CACHED_WORDS", 50)
    hasher = NgramHasher(1, 18)
    first = buckets(hasher, ["alpha beta"])[0]
    hasher.pairs([" ".join(f"w{i}" for i in range(500))])
    assert 0 < len(hasher._cache) <= 50
    assert buckets(hasher, ["alpha beta"])[0] == first  # re-hashed after a clear, to the same buckets


@pytest.mark.parametrize("ngram_max, bits", [(0, 10), (9, 10), (3, 0), (3, 33)])
def test_bad_settings_are_refused(ngram_max: int, bits: int) -> None:
    with pytest.raises(ValueError, match="ngram_max"):
        NgramHasher(ngram_max, bits)
