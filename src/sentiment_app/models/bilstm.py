"""A bidirectional LSTM over each review's real tokens, mean- and max-pooled.

Reads the negation-keeping tokens (no stopword removal, no stemming) through its own vocabulary
from the training part (training and inference: ``token_net``). Training batches are cut to their
shortest review, so the plain LSTM kernel runs (packed sequences are far slower backwards on CPU);
at inference, reviews of different lengths in one batch are packed.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from sentiment_app.models.token_net import TokenNetModel

# Sized for the endpoint's latency budget on one core: 48 units per direction, at most 256 tokens per review.
HYPERPARAMETERS = {"vocab_size": 30000, "embedding_dim": 64, "hidden_dim": 48, "dropout": 0.4, "max_len": 256,
                   "epochs": 4, "patience": 1, "batch_size": 64, "lr": 0.003}


class BiLSTMNet(nn.Module):
    def __init__(self, vocab_size: int, embedding_dim: int, hidden_dim: int, dropout: float) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        self.lstm = nn.LSTM(embedding_dim, hidden_dim, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(dropout)
        self.dense = nn.Linear(4 * hidden_dim, 1)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits for ``ids`` (batch, time), zero-padded after each row's ``lengths`` (on the CPU)."""
        x = self.dropout(self.embedding(ids))
        if bool((lengths == ids.shape[1]).all()):
            out, _ = self.lstm(x)
        else:
            packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            out, _ = pad_packed_sequence(self.lstm(packed)[0], batch_first=True, total_length=ids.shape[1])
        n = lengths.to(ids.device)
        mask = (torch.arange(ids.shape[1], device=ids.device) < n[:, None]).unsqueeze(-1)
        mean = (out * mask).sum(1) / n[:, None]
        top = out.masked_fill(~mask, float("-inf")).amax(1)
        return self.dense(self.dropout(torch.cat([mean, top], 1))).squeeze(-1)


class BiLSTM(TokenNetModel):
    name = "bilstm"

    @classmethod
    def build(cls, hyper: dict[str, Any]) -> nn.Module:
        return BiLSTMNet(hyper["vocab_size"], hyper["embedding_dim"], hyper["hidden_dim"], hyper["dropout"])
