"""Binary 1..n-gram features hashed into ``2**bits`` buckets, cheap enough for the request path.

The NBSVM's features. Each distinct word is hashed once (64-bit murmurhash3, remembered in a
bounded cache); the hash of every n-gram is then mixed from its words' hashes with numpy, for a
whole batch of reviews at once, so the Python work per review is one regex and one dict lookup
per token. scikit-learn's ``HashingVectorizer`` joins every n-gram into a string and hashes that, which
costs the NBSVM's one-review latency more than twice as much (docs/models.md).
A bucket counts once per review (binary features), however often its n-grams occur.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.utils import murmurhash3_32

from sentiment_app.features.text import remember
from sentiment_app.features.tokens import mark_negation, tokenize

MAX_CACHED_WORDS = 500_000  # several times the distinct tokens of IMDB's training reviews
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads every input bit over the whole 64-bit hash (uint64 wraps)."""
    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def word_hash(word: str) -> int:
    """A stable 64-bit hash (Python's own ``hash`` changes from process to process)."""
    return murmurhash3_32(word, seed=0, positive=True) | murmurhash3_32(word, seed=1, positive=True) << 32


class NgramHasher:
    """``texts -> (review index, bucket)`` pairs, one per distinct bucket of each review."""

    def __init__(self, ngram_max: int, bits: int, negation: bool = False) -> None:
        if not 1 <= ngram_max <= 8 or not 1 <= bits <= 32:
            raise ValueError("ngram_max must be 1 to 8 and bits 1 to 32")
        self.ngram_max = ngram_max
        self.bits = bits
        self.negation = negation  # mark the tokens in a negation's scope (tokens.mark_negation)
        self.size = 1 << bits
        self._cache: dict[str, int] = {}

    def _word(self, word: str) -> int:
        return remember(self._cache, word, word_hash(word), MAX_CACHED_WORDS)

    def pairs(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Review indices and buckets (int64, sorted by review, then bucket, no repeats)."""
        review, bucket, _ = self.pairs_and_lengths(texts)
        return review, bucket

    def pairs_and_lengths(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`pairs`, and the number of tokens of each review."""
        get, word = self._cache.get, self._word
        hashes: list[int] = []
        lengths = np.empty(len(texts), dtype=np.int64)
        for i, text in enumerate(texts):
            tokens = mark_negation(tokenize(text)) if self.negation else tokenize(text)
            hashes.extend([get(t) or word(t) for t in tokens])
            lengths[i] = len(tokens)
        unigrams = np.array(hashes, dtype=np.uint64)
        review = np.repeat(np.arange(len(texts), dtype=np.uint64), lengths)
        keys, owners, h = [unigrams], [review], unigrams
        with np.errstate(over="ignore"):
            for n in range(2, self.ngram_max + 1):
                h = _mix(h[:-1] * _GOLDEN + unigrams[n - 1:] + np.uint64(n))
                owner = review[: len(review) - n + 1]
                same = review[n - 1:] == owner  # n-grams never span two reviews
                keys.append(h[same])
                owners.append(owner[same])
        mask = np.uint64(self.size - 1)
        combined = np.sort((np.concatenate(owners) << np.uint64(self.bits)) | (np.concatenate(keys) & mask))
        first = np.ones(len(combined), dtype=bool)  # np.unique, but sorting: its hash table is slower here
        first[1:] = combined[1:] != combined[:-1]
        combined = combined[first]
        return (combined >> np.uint64(self.bits)).astype(np.int64), (combined & mask).astype(np.int64), lengths

    def matrix(self, texts: Sequence[str], chunk: int = 2000) -> sparse.csr_matrix:
        """Binary ``(len(texts), 2**bits)`` features, built ``chunk`` reviews at a time to bound memory."""
        rows, cols = [], []
        for start in range(0, len(texts), chunk):
            review, bucket = self.pairs(texts[start:start + chunk])
            rows.append(review + start)
            cols.append(bucket)
        row, col = np.concatenate(rows or [np.empty(0, np.int64)]), np.concatenate(cols or [np.empty(0, np.int64)])
        return sparse.csr_matrix((np.ones(len(row), np.float32), (row, col)), shape=(len(texts), self.size))

    def dot(self, texts: Sequence[str], weight: np.ndarray) -> np.ndarray:
        """``matrix(texts) @ weight`` without building the matrix: the request path's one step."""
        review, bucket = self.pairs(texts)
        return np.bincount(review, weights=weight[bucket], minlength=len(texts)).astype(np.float32)
