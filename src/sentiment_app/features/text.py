"""``review_to_words`` of the original project, made fast.

Same steps as the notebook: strip HTML (tags removed without inserting spaces, entities decoded, as
BeautifulSoup's ``get_text`` does), lower-case, replace every character outside ``[a-z0-9]`` by a
space, split, drop NLTK's English stopwords, Porter-stem. The speed comes from doing the
stopword test and the stemming once per distinct word instead of once per occurrence.
"""

from __future__ import annotations

import html
import re
from functools import cache
from importlib import resources
from typing import TypeVar

_TAG = re.compile(r"<[^>]*>")
_NON_ALNUM = re.compile(r"[^a-z0-9]")
V = TypeVar("V")
MAX_CACHED_WORDS = 200_000  # IMDB's training reviews hold about 75,000 distinct words


@cache
def stopwords() -> frozenset[str]:
    """NLTK's English stopword list, read from the copy shipped inside this package."""
    text = resources.files("sentiment_app").joinpath("resources/stopwords_en.txt").read_text("utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def remember(cache: dict[str, V], word: str, value: V, limit: int) -> V:
    """Store ``value`` for ``word``, first emptying ``cache`` if it holds ``limit`` words: a per-word
    cache of a server fed made-up words must not grow without bound."""
    if len(cache) >= limit:
        cache.clear()
    cache[word] = value
    return value


def strip_html(review: str) -> str:
    # Only the text up to the last ">" can hold a tag: tried at each "<" after it, the pattern would
    # scan to the end every time, so a review of many "<" would take quadratic time.
    end = review.rfind(">") + 1
    return html.unescape(_TAG.sub("", review[:end]) + review[end:])


def split_words(review: str) -> list[str]:
    """Cleaned, lower-cased words before stopword removal and stemming."""
    return _NON_ALNUM.sub(" ", strip_html(review).lower()).split()


class Tokenizer:
    """Callable ``review -> list of stems`` that remembers the stem of every word it has seen
    (up to ``MAX_CACHED_WORDS``, so a server fed made-up words does not grow without bound)."""

    def __init__(self) -> None:
        from nltk.stem.porter import PorterStemmer  # here, not at the top: importing nltk takes seconds

        self._stem = PorterStemmer().stem
        self._stops = stopwords()
        self._cache: dict[str, str] = {}

    def _lookup(self, word: str) -> str:
        return remember(self._cache, word, "" if word in self._stops else self._stem(word), MAX_CACHED_WORDS)

    def __call__(self, review: str, limit: int | None = None) -> list[str]:
        """The stems of ``review``; with ``limit``, only the first ``limit`` (a model reading 500 words
        needs no more, and stemming all of a 100,000-word review would take seconds)."""
        cache_get, lookup = self._cache.get, self._lookup
        stems = []
        for word in split_words(review):
            stem = cache_get(word)
            if stem is None:
                stem = lookup(word)
            if stem:
                stems.append(stem)
                if len(stems) == limit:
                    break
        return stems

