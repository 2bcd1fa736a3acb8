"""Which words made the model call a review positive or negative: occlusion, for any model.

Each distinct word (case-insensitive) is removed from the review, every variant is scored in one
``predict_proba`` call, and the word's weight is ``p(review) - p(review without it)``: above 0 it
pushed towards positive, below 0 towards negative. Only the model's probabilities are used, so
this works for every model family. The work is bounded whatever the review's size: only the first
``MAX_CHARS`` characters are explained (an LSTM reads its first 500 stems, about 1,000 words) and at
most ``MAX_WORDS`` distinct words in them, in order of first appearance. Words inside HTML tags and
entities (``<br />``, ``&amp;``) are not words of the review and are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

MAX_CHARS = 10_000
MAX_WORDS = 150
DIGITS = 6

# A tag or entity (group 1, skipped) or a word: letters/digits, with inner apostrophes ("don't").
_MARKUP_OR_WORD = re.compile(r"(<[^>]*>|&#?\w+;)|([^\W_]+(?:'[^\W_]+)*)")


@dataclass(frozen=True)
class WordWeight:
    """A word (lower-cased), its signed weight and every place it occurs: ``(start, end)`` offsets
    into the original review, in Python string indices (code points)."""

    word: str
    weight: float
    spans: tuple[tuple[int, int], ...]

    def to_json(self) -> dict[str, object]:
        start, end = self.spans[0]
        return {"word": self.word, "weight": self.weight, "start": start, "end": end,
                "spans": [list(span) for span in self.spans]}


@dataclass(frozen=True)
class Explanation:
    """The review's probability of positive and its words by influence, strongest first; words
    with no effect are left out. ``truncated``: only the start of the review was explained."""

    probability: float
    words: list[WordWeight]
    truncated: bool


@dataclass(frozen=True)
class Occlusion:
    """The texts to score for one review: the review, the explained window when it is only the
    start of the review, then the window without each word in turn."""

    texts: list[str]
    words: list[str]
    spans: list[tuple[tuple[int, int], ...]]
    truncated: bool

    def explain(self, probabilities: Sequence[float] | np.ndarray) -> Explanation:
        """The explanation, given ``predict_proba(self.texts)``."""
        scores = np.asarray(probabilities, dtype=np.float64)
        baseline = scores[1] if self.truncated else scores[0]
        first = 2 if self.truncated else 1
        weights = np.round(baseline - scores[first:], DIGITS)
        found = [WordWeight(word, float(weight), spans)
                 for word, weight, spans in zip(self.words, weights, self.spans) if weight != 0]
        found.sort(key=lambda item: -abs(item.weight))
        return Explanation(float(scores[0]), found, self.truncated)


def window_end(review: str, max_chars: int = MAX_CHARS) -> int:
    """Where the explained part ends: at most ``max_chars``, never inside a word or a tag."""
    if len(review) <= max_chars:
        return len(review)
    end = max_chars
    for match in _MARKUP_OR_WORD.finditer(review, max(0, max_chars - 1000), max_chars + 1000):
        if match.start() < max_chars < match.end():
            end = match.start()
    return end


def occlude(review: str, max_chars: int = MAX_CHARS, max_words: int = MAX_WORDS) -> Occlusion:
    """The variants of ``review`` to score (see ``Occlusion``)."""
    end = window_end(review, max_chars)
    window = review[:end]
    places: dict[str, list[tuple[int, int]]] = {}
    for match in _MARKUP_OR_WORD.finditer(window):
        if match.group(2) is None:
            continue
        word = match.group(2).lower()
        if word not in places and len(places) == max_words:
            continue
        places.setdefault(word, []).append(match.span())
    texts = [review] if end == len(review) else [review, window]
    texts += [without(window, spans) for spans in places.values()]
    return Occlusion(texts, list(places), [tuple(spans) for spans in places.values()], end < len(review))


def without(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """``text`` with the given (sorted, disjoint) spans cut out."""
    pieces, last = [], 0
    for start, end in spans:
        pieces.append(text[last:start])
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def explain(predict_proba: Callable[[list[str]], np.ndarray], review: str) -> Explanation:
    """Explain ``review`` with one ``predict_proba`` call (the model's, or a batcher's)."""
    occlusion = occlude(review)
    return occlusion.explain(predict_proba(occlusion.texts))
