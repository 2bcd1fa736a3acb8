"""A bidirectional LSTM over each review's real tokens, mean- and max-pooled.

Reads the negation-keeping tokens (no stopword removal, no stemming) through its own vocabulary
from the training part. Training batches hold reviews of nearly equal length (sorted, then cut)
and each batch is cut to its shortest review, so no padding is ever read and the plain LSTM kernel
runs (packed sequences are far slower backwards on CPU); at inference, reviews of different
lengths in one batch are packed. Reviews longer than ``max_len`` keep their first and last
``max_len / 2`` tokens. Early stopping keeps the weights of the best validation epoch.
"""

from __future__ import annotations

import copy
import sys
import time
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from tqdm import tqdm

from sentiment_app.data.dataset import Reviews
from sentiment_app.features.tokens import tokenize
from sentiment_app.features.vocab import INFREQUENT, build_vocab
from sentiment_app.models.text_model import Saved, accuracy

# Sized for ~2 ms per review on one core: 48 units per direction, at most 256 tokens per review.
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


def clip(ids: list[int], max_len: int) -> list[int]:
    return ids if len(ids) <= max_len else ids[: max_len // 2] + ids[len(ids) - (max_len - max_len // 2) :]


def padded(rows: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = torch.tensor([max(len(r), 1) for r in rows])
    ids = torch.zeros(len(rows), int(lengths.max()), dtype=torch.int64)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r, dtype=torch.int64)
    return ids, lengths


class BiLSTM:
    def __init__(self, hyper: dict[str, Any], vocab: dict[str, int], net: BiLSTMNet, metrics: dict | None = None) -> None:
        self.hyper = hyper
        self.vocab = vocab
        self.net = net.eval()
        self.metrics = metrics or {}

    def encode(self, texts: list[str]) -> list[list[int]]:
        get, max_len = self.vocab.get, self.hyper["max_len"]
        return [clip([get(t, INFREQUENT) for t in tokenize(text)], max_len) for text in texts]

    @torch.inference_mode()
    def logits(self, texts: list[str], batch_size: int = 256) -> np.ndarray:
        rows = self.encode(texts)
        order = np.argsort([len(r) for r in rows], kind="stable")
        out = np.empty(len(rows), dtype=np.float32)
        device = self.net.dense.weight.device
        for start in range(0, len(rows), batch_size):
            chosen = order[start : start + batch_size]
            ids, lengths = padded([rows[i] for i in chosen])
            out[chosen] = self.net(ids.to(device), lengths).cpu().numpy()
        return out

    @classmethod
    def fit(cls, train: Reviews, val: Reviews, hyper: dict[str, Any], seed: int) -> "BiLSTM":
        """Train on the GPU when there is one (as on a SageMaker GPU instance), else the CPU."""
        torch.manual_seed(seed)
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        tokens = [tokenize(text) for text in tqdm(train.texts, desc="bilstm tokens", unit="review", file=sys.stderr)]
        vocab = build_vocab(tokens, hyper["vocab_size"])
        net = BiLSTMNet(hyper["vocab_size"], hyper["embedding_dim"], hyper["hidden_dim"], hyper["dropout"]).to(device)
        model = cls(hyper, vocab, net)
        get = vocab.get
        rows = [clip([get(t, INFREQUENT) for t in words], hyper["max_len"]) for words in tokens]
        batches = length_batches(rows, hyper["batch_size"])
        labels = torch.tensor(train.labels, dtype=torch.float32, device=device)
        optimizer = torch.optim.Adam(net.parameters(), lr=hyper["lr"])
        rng = np.random.default_rng(seed)
        best, best_acc, history, waited = copy.deepcopy(net.state_dict()), -1.0, [], 0
        for epoch in range(1, hyper["epochs"] + 1):
            started, total = time.perf_counter(), 0.0
            net.train()
            bar = tqdm(rng.permutation(len(batches)), desc=f"bilstm epoch {epoch}", unit="batch", file=sys.stderr)
            for b in bar:
                batch = batches[b]
                cut = max(min(len(rows[i]) for i in batch), 1)
                ids = torch.tensor([(rows[i] + [0])[:cut] for i in batch], dtype=torch.int64, device=device)
                optimizer.zero_grad()
                loss = nn.functional.binary_cross_entropy_with_logits(net(ids, torch.full((len(batch),), cut)),
                                                                      labels[batch])
                loss.backward()
                optimizer.step()
                total += loss.item()
            net.eval()
            val_acc = accuracy(val.labels, model.logits(val.texts))
            history.append({"epoch": epoch, "loss": total / len(batches), "val_accuracy": val_acc,
                            "seconds": time.perf_counter() - started})
            print(f"bilstm epoch {epoch}: loss {history[-1]['loss']:.4f}, val_accuracy {val_acc:.4f}", flush=True)
            if val_acc > best_acc:
                best, best_acc, waited = copy.deepcopy(net.state_dict()), val_acc, 0
            else:
                waited += 1
                if waited >= hyper["patience"]:
                    break
        net.load_state_dict(best)
        model.net = net.cpu().eval()
        model.metrics = {"history": history, "val_accuracy": best_acc}
        return model

    @classmethod
    def restore(cls, hyper: dict[str, Any], saved: Saved) -> "BiLSTM":
        net = BiLSTMNet(hyper["vocab_size"], hyper["embedding_dim"], hyper["hidden_dim"], hyper["dropout"])
        net.load_state_dict(saved.tensors)
        return cls(hyper, saved.vocab, net, saved.metrics)

    def save(self) -> Saved:
        return Saved(dict(self.net.state_dict()), vocab=self.vocab, metrics=self.metrics)


def length_batches(rows: list[list[int]], batch_size: int) -> list[list[int]]:
    """Indices of ``rows`` in batches of nearly equal length (sorted by length, then cut)."""
    order = np.argsort([len(r) for r in rows], kind="stable").tolist()
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
