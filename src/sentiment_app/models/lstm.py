"""The original project's ``LSTMClassifier``, run over the real lengths only.

The original forward pass runs the LSTM over all 500 positions and then reads the output at
``length - 1``. A one-directional LSTM's output there does not depend on the padding after it, so
running each review only as far as it needs gives the same numbers for a fraction of the work.
PyTorch's packed sequences would do that, but their backward pass on CPU is many times slower than
the unpacked one (docs/pipeline.md has the measurement); instead the batch is sorted by length and cut into small groups, and each group
runs the ordinary (fast) LSTM kernel up to its own longest review. Parameter names match the
original, so its ``state_dict`` loads unchanged.
"""

from __future__ import annotations

import torch
from torch import nn

GROUP_ROWS = 32


class LSTMClassifier(nn.Module):
    """Embedding → one-layer LSTM → linear → sigmoid, read at each review's last real word.

    Input rows are ``length, id_1 ... id_pad`` (the stored feature layout). A review of length 0 is
    read after one padding step (the original read it after all 500 padding steps).
    """

    def __init__(self, embedding_dim: int, hidden_dim: int, vocab_size: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        self.lstm = nn.LSTM(embedding_dim, hidden_dim)
        self.dense = nn.Linear(hidden_dim, 1)
        self.sig = nn.Sigmoid()

    def last_hidden(self, x: torch.Tensor) -> torch.Tensor:
        """LSTM output at ``length - 1`` for every row, computed group by group of similar length."""
        lengths = x[:, 0].clamp(min=1)
        order = torch.argsort(lengths, descending=True)
        result = torch.empty(len(x), self.lstm.hidden_size, dtype=self.dense.weight.dtype, device=x.device)
        pieces = []
        for rows in order.split(GROUP_ROWS):
            group_lengths = lengths[rows]
            steps = int(group_lengths[0])
            output, _ = self.lstm(self.embedding(x[rows, 1 : 1 + steps].t()))
            pieces.append(output[group_lengths - 1, torch.arange(len(rows), device=x.device)])
        return result.index_put((order,), torch.cat(pieces))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.sig(self.dense(self.last_hidden(x))).squeeze(-1)
