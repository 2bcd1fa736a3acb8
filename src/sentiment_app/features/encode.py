"""``convert_and_pad`` of the original project: words → ids, padded or cut to a fixed length."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sentiment_app.features.vocab import INFREQUENT

PAD_LENGTH = 500


def convert_and_pad(vocab: dict[str, int], words: Sequence[str], pad: int = PAD_LENGTH) -> tuple[np.ndarray, int]:
    """Return ``(ids[pad], length)``: ids of the first ``pad`` words (1 when not in the dictionary),
    zeros after them, and ``length = min(len(words), pad)``."""
    length = min(len(words), pad)
    row = np.zeros(pad, dtype=np.int64)
    get = vocab.get
    row[:length] = [get(word, INFREQUENT) for word in words[:length]]
    return row, length


def encode_rows(vocab: dict[str, int], tokenized: Sequence[Sequence[str]], pad: int = PAD_LENGTH) -> np.ndarray:
    """Rows ``length, ids[pad]`` (the model's input layout) for many reviews at once."""
    rows = np.zeros((len(tokenized), pad + 1), dtype=np.int64)
    for i, words in enumerate(tokenized):
        rows[i, 1:], rows[i, 0] = convert_and_pad(vocab, words, pad)
    return rows
