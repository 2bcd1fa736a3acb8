"""The word dictionary: the most frequent training words get ids 2..vocab_size-1.

0 means "no word" (padding) and 1 "infrequent word", as in the original ``build_dict``. Ties in
frequency are broken alphabetically so the same data always gives the same dictionary.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

INFREQUENT = 1  # id of every word outside the dictionary; 0 is padding
VOCAB_SIZE = 5000  # the original recipe's dictionary size


def build_vocab(tokenized: Iterable[list[str]], vocab_size: int = VOCAB_SIZE) -> dict[str, int]:
    if vocab_size < 3:
        raise ValueError("vocab_size must be at least 3 (0 = padding, 1 = infrequent word)")
    counts: Counter[str] = Counter()
    for words in tokenized:
        counts.update(words)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[: vocab_size - 2]
    return {word: index for index, (word, _) in enumerate(ranked, start=2)}

