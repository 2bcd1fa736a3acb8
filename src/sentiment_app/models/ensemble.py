"""NBSVM and the region CNN combined: a weighted average of their logits.

Both members are fitted on the same training part; the weight is the one (on a grid of 0.05
steps) with the best accuracy on the validation part, so the test set never takes part. The
members are saved inside the one artifact: tensors and vocabulary under ``nbsvm.``/``cnn.``.
The CNN rather than the BiLSTM: it is as accurate as NBSVM on validation and reads word order,
where the BiLSTM, 3 points weaker, barely moved the average.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from sentiment_app.data.dataset import Reviews
from sentiment_app.models import nbsvm, region_cnn
from sentiment_app.models.text_model import Saved, accuracy

MEMBERS = {"nbsvm": (nbsvm.NBSVM, nbsvm.HYPERPARAMETERS), "cnn": (region_cnn.RegionCNN, region_cnn.HYPERPARAMETERS)}
HYPERPARAMETERS = {f"{member}_{key}": value for member, (_, hp) in MEMBERS.items() for key, value in hp.items()}
WEIGHTS = np.round(np.linspace(0, 1, 21), 2)


def member_hyper(hyper: dict[str, Any], member: str) -> dict[str, Any]:
    return {key.removeprefix(f"{member}_"): value for key, value in hyper.items() if key.startswith(f"{member}_")}


def choose_weight(labels: np.ndarray, linear: np.ndarray, neural: np.ndarray) -> tuple[float, float]:
    """The NBSVM (``linear``) weight with the best accuracy on ``labels`` (ties: the one nearest 0.5)."""
    scored = [(accuracy(labels, w * linear + (1 - w) * neural), -abs(w - 0.5), float(w)) for w in WEIGHTS]
    acc, _, weight = max(scored)
    return weight, acc


class Ensemble:
    def __init__(self, members: dict[str, Any], weight: float, metrics: dict | None = None) -> None:
        self.members = members
        self.weight = weight
        self.metrics = metrics or {}

    @classmethod
    def fit(cls, train: Reviews, val: Reviews, hyper: dict[str, Any], seed: int) -> "Ensemble":
        members, seconds = {}, {}
        for name, (family, _) in MEMBERS.items():
            started = time.perf_counter()
            members[name] = family.fit(train, val, member_hyper(hyper, name), seed)
            seconds[name] = time.perf_counter() - started
        weight, val_acc = choose_weight(val.labels, *(m.logits(val.texts) for m in members.values()))
        metrics = {"weight_nbsvm": weight, "val_accuracy": val_acc,
                   **{name: {**m.metrics, "seconds": seconds[name]} for name, m in members.items()}}
        print(f"ensemble: NBSVM weight {weight}", flush=True)
        return cls(members, weight, metrics)

    @classmethod
    def restore(cls, hyper: dict[str, Any], saved: Saved) -> "Ensemble":
        members = {}
        for name, (family, _) in MEMBERS.items():
            tensors = {k.removeprefix(f"{name}."): v for k, v in saved.tensors.items() if k.startswith(f"{name}.")}
            members[name] = family.restore(member_hyper(hyper, name), Saved(tensors, saved.vocab.get(name, {})))
        return cls(members, float(saved.state["weight_nbsvm"]), saved.metrics)

    def save(self) -> Saved:
        tensors, vocab = {}, {}
        for name, member in self.members.items():
            saved = member.save()
            tensors.update({f"{name}.{k}": v for k, v in saved.tensors.items()})
            vocab[name] = saved.vocab
        return Saved(tensors, vocab, {"weight_nbsvm": self.weight}, self.metrics)

    def logits(self, texts: list[str]) -> np.ndarray:
        linear, neural = (m.logits(texts) for m in self.members.values())
        return self.weight * linear + (1 - self.weight) * neural
