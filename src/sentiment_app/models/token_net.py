"""What the neural text models share: their own vocabulary, length-bucketed training with early
stopping on the validation part, batched inference, and the artifact (weights + vocabulary).

A family is a subclass that says how to build its network (``build``; the network takes ``ids``,
zero-padded after each row's ``lengths``) and, if not Adam over every weight, its optimizers.
Training batches hold reviews of nearly equal length (sorted, then cut) and each batch is cut to
its shortest review, so no padding is ever read. Reviews longer than ``max_len`` keep their first
and last ``max_len / 2`` tokens. Early stopping keeps the weights of the best validation epoch.
"""

from __future__ import annotations

import copy
import sys
import time
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from sentiment_app.models.metric_log import metric_line
from sentiment_app.data.dataset import Reviews
from sentiment_app.features.tokens import tokenize
from sentiment_app.features.vocab import INFREQUENT, build_vocab
from sentiment_app.models.text_model import Saved, accuracy


def clip(ids: list[int], max_len: int) -> list[int]:
    return ids if len(ids) <= max_len else ids[: max_len // 2] + ids[len(ids) - (max_len - max_len // 2) :]


def padded(rows: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = torch.tensor([max(len(r), 1) for r in rows])
    ids = torch.zeros(len(rows), int(lengths.max()), dtype=torch.int64)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r, dtype=torch.int64)
    return ids, lengths


def length_batches(rows: list[list[int]], batch_size: int) -> list[list[int]]:
    """Indices of ``rows`` in batches of nearly equal length (sorted by length, then cut)."""
    order = np.argsort([len(r) for r in rows], kind="stable").tolist()
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


class TokenNetModel:
    name = "token-net"
    half_weights: tuple[str, ...] = ()
    """Prefixes of the weights the artifact stores as float16 (half the bytes). Training rounds them
    to float16 before each validation, so the weights validated are the weights saved and served."""

    def __init__(self, hyper: dict[str, Any], vocab: dict[str, int], net: nn.Module, metrics: dict | None = None) -> None:
        self.hyper = hyper
        self.vocab = vocab
        self.net = net.eval()
        self.metrics = metrics or {}

    @classmethod
    def build(cls, hyper: dict[str, Any]) -> nn.Module:
        raise NotImplementedError

    @classmethod
    def optimizers(cls, net: nn.Module, hyper: dict[str, Any]) -> list[torch.optim.Optimizer]:
        return [torch.optim.Adam(net.parameters(), lr=hyper["lr"])]

    def ids(self, words: list[str]) -> list[int]:
        get = self.vocab.get
        return clip([get(w, INFREQUENT) for w in words], self.hyper["max_len"])

    def encode(self, texts: list[str]) -> list[list[int]]:
        return [self.ids(tokenize(text)) for text in texts]

    @torch.inference_mode()
    def logits(self, texts: list[str], batch_size: int = 256) -> np.ndarray:
        rows = self.encode(texts)
        order = np.argsort([len(r) for r in rows], kind="stable")
        out = np.empty(len(rows), dtype=np.float32)
        device = next(self.net.parameters()).device
        for start in range(0, len(rows), batch_size):
            chosen = order[start : start + batch_size]
            ids, lengths = padded([rows[i] for i in chosen])
            out[chosen] = self.net(ids.to(device), lengths).cpu().numpy()
        return out

    @classmethod
    def fit(cls, train: Reviews, val: Reviews, hyper: dict[str, Any], seed: int) -> "TokenNetModel":
        """Train on the GPU when there is one (as on a SageMaker GPU instance), else the CPU."""
        torch.manual_seed(seed)
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        tokens = [tokenize(text) for text in tqdm(train.texts, desc=f"{cls.name} tokens", unit="review", file=sys.stderr)]
        vocab = build_vocab(tokens, hyper["vocab_size"])
        net = cls.build(hyper).to(device)
        model = cls(hyper, vocab, net)
        rows = [model.ids(words) for words in tokens]
        batches = length_batches(rows, hyper["batch_size"])
        labels = torch.tensor(train.labels, dtype=torch.float32, device=device)
        optimizers = cls.optimizers(net, hyper)
        rng = np.random.default_rng(seed)
        best, best_acc, history, waited = copy.deepcopy(net.state_dict()), -1.0, [], 0
        for epoch in range(1, hyper["epochs"] + 1):
            started, total = time.perf_counter(), 0.0
            net.train()
            bar = tqdm(rng.permutation(len(batches)), desc=f"{cls.name} epoch {epoch}", unit="batch", file=sys.stderr)
            for b in bar:
                batch = batches[b]
                cut = max(min(len(rows[i]) for i in batch), 1)
                ids = torch.tensor([(rows[i] + [0])[:cut] for i in batch], dtype=torch.int64, device=device)
                for optimizer in optimizers:
                    optimizer.zero_grad()
                loss = nn.functional.binary_cross_entropy_with_logits(net(ids, torch.full((len(batch),), cut)),
                                                                      labels[batch])
                loss.backward()
                for optimizer in optimizers:
                    optimizer.step()
                total += loss.item()
            net.eval()
            model.round_half_weights()
            val_acc = accuracy(val.labels, model.logits(val.texts))
            history.append({"epoch": epoch, "loss": total / len(batches), "val_accuracy": val_acc,
                            "seconds": time.perf_counter() - started})
            print(metric_line(f"{cls.name} epoch {epoch}", train_loss=history[-1]["loss"], val_accuracy=val_acc),
                  flush=True)
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
    def restore(cls, hyper: dict[str, Any], saved: Saved) -> "TokenNetModel":
        net = cls.build(hyper)
        net.load_state_dict(saved.tensors)
        return cls(hyper, saved.vocab, net, saved.metrics)

    @torch.no_grad()
    def round_half_weights(self) -> None:
        for name, weight in self.net.named_parameters():
            if name.startswith(self.half_weights):
                weight.copy_(weight.half())

    def save(self) -> Saved:
        tensors = {name: weight.half() if name.startswith(self.half_weights) else weight
                   for name, weight in self.net.state_dict().items()}
        return Saved(tensors, vocab=self.vocab, metrics=self.metrics)
