"""The word dictionary: the most frequent training words get ids 2..vocab_size-1.

0 means "no word" (padding) and 1 "infrequent word", as in the original ``build_dict``. Ties in
frequency are broken alphabetically so the same data always gives the same dictionary.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from sentiment_app.errors import ArtifactError
from sentiment_app.fileio import atomic_write_bytes

PAD, INFREQUENT = 0, 1


def build_vocab(tokenized: Iterable[list[str]], vocab_size: int = 5000) -> dict[str, int]:
    if vocab_size < 3:
        raise ValueError("vocab_size must be at least 3 (0 = padding, 1 = infrequent word)")
    counts: Counter[str] = Counter()
    for words in tokenized:
        counts.update(words)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[: vocab_size - 2]
    return {word: index for index, (word, _) in enumerate(ranked, start=2)}


def save_vocab(vocab: dict[str, int], path: Path) -> None:
    atomic_write_bytes(path, json.dumps(vocab, ensure_ascii=False).encode("utf-8"))


def load_vocab(path: Path) -> dict[str, int]:
    try:
        vocab = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"Could not read the word dictionary {path}: {exc}") from exc
    if not isinstance(vocab, dict) or not all(isinstance(v, int) and v >= 2 for v in vocab.values()):
        raise ArtifactError(f"{path} is not a word dictionary (word -> id >= 2)")
    return vocab
