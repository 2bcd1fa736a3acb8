"""The original notebook's approach (udacity/sagemaker-deployment, Project/), kept only to compare with.

Written as the notebook does it, with one forced change: the
notebook calls ``nltk.download("stopwords")`` and ``stopwords.words("english")`` for every word,
which cannot work offline, so the shipped list is used, as a list (the notebook's membership test
scans a list too). Nothing in the package imports this module.
"""

from __future__ import annotations

import re

import numpy as np
import torch
from bs4 import BeautifulSoup
from nltk.stem.porter import PorterStemmer
from torch import nn

from sentiment_app.features.text import stopwords

STOPWORDS = sorted(stopwords())


def review_to_words(review: str) -> list[str]:
    """HTML stripped by BeautifulSoup, lower-cased, non-alphanumerics to spaces, stopwords dropped,
    Porter-stemmed word by word with no cache (a new stemmer per word, as in the notebook)."""
    text = BeautifulSoup(review, "html.parser").get_text()
    text = re.sub(r"[^a-zA-Z0-9]", " ", text.lower())
    words = [w for w in text.split() if w not in STOPWORDS]
    return [PorterStemmer().stem(w) for w in words]


def build_dict(data: list[list[str]], vocab_size: int = 5000) -> dict[str, int]:
    """The most frequent ``vocab_size - 2`` words → 2, 3, ... (0 = no word, 1 = infrequent)."""
    word_count: dict[str, int] = {}
    for sentence in data:
        for word in sentence:
            word_count[word] = word_count.get(word, 0) + 1
    sorted_words = sorted(word_count, key=word_count.get, reverse=True)  # type: ignore[arg-type]
    return {word: idx + 2 for idx, word in enumerate(sorted_words[: vocab_size - 2])}


def convert_and_pad(word_dict: dict[str, int], sentence: list[str], pad: int = 500) -> tuple[list[int], int]:
    working_sentence = [0] * pad
    for word_index, word in enumerate(sentence[:pad]):
        working_sentence[word_index] = word_dict[word] if word in word_dict else 1
    return working_sentence, min(len(sentence), pad)


def convert_and_pad_data(word_dict: dict[str, int], data: list[list[str]], pad: int = 500) -> tuple[np.ndarray, np.ndarray]:
    result, lengths = [], []
    for sentence in data:
        converted, length = convert_and_pad(word_dict, sentence, pad)
        result.append(converted)
        lengths.append(length)
    return np.array(result), np.array(lengths)


class OriginalLSTMClassifier(nn.Module):
    """``Project/train/model.py``: the LSTM runs over all 500 steps, the dense layer on every step,
    and the output at ``length - 1`` is picked (index -1, the last padding step, for length 0)."""

    def __init__(self, embedding_dim: int = 32, hidden_dim: int = 100, vocab_size: int = 5000) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        self.lstm = nn.LSTM(embedding_dim, hidden_dim)
        self.dense = nn.Linear(in_features=hidden_dim, out_features=1)
        self.sig = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.t()
        lengths = x[0, :]
        reviews = x[1:, :]
        embeds = self.embedding(reviews)
        lstm_out, _ = self.lstm(embeds)
        out = self.dense(lstm_out)
        out = out[lengths - 1, range(len(lengths))]
        return self.sig(out.squeeze())
