"""NBSVM (Wang & Manning 2012) with logistic regression: the fast linear n-gram model.

Features are binarized 1..n-gram counts of the negation- and punctuation-keeping tokenizer,
hashed into a fixed number of buckets (no vocabulary to store; ``features.ngrams``), scaled by the
naive-Bayes log-count ratio
``r = log((p/|p|) / (q/|q|))``; logistic regression is fitted on the scaled features. Because both
steps are linear, the saved model is one weight per bucket (``coef * r``) plus a bias.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from sentiment_app.data.dataset import Reviews
from sentiment_app.features.ngrams import NgramHasher
from sentiment_app.models.text_model import Saved, accuracy

# Chosen on the validation part (the comparison is in docs/models.md).
HYPERPARAMETERS = {"ngram_max": 3, "hash_bits": 22, "C": 0.3, "alpha": 1.0}


def log_count_ratio(x: sparse.csr_matrix, labels: np.ndarray, alpha: float,
                    weights: np.ndarray | None = None) -> np.ndarray:
    """The naive-Bayes log-count ratio ``log((p/|p|) / (q/|q|))``, each row counted ``weights`` times."""
    weights = np.ones(len(labels), dtype=x.dtype) if weights is None else weights
    p = alpha + np.asarray(x.T @ (weights * (labels == 1))).ravel()
    q = alpha + np.asarray(x.T @ (weights * (labels == 0))).ravel()
    return (np.log(p / p.sum()) - np.log(q / q.sum())).astype(np.float32)


class NBSVM:
    name = "nbsvm"

    def __init__(self, hyper: dict[str, Any], weight: np.ndarray, bias: float, metrics: dict | None = None) -> None:
        self.hyper = hyper
        self.hasher = NgramHasher(hyper["ngram_max"], hyper["hash_bits"])
        self.weight = weight
        self.bias = bias
        self.metrics = metrics or {}

    @classmethod
    def fit(cls, train: Reviews, val: Reviews, hyper: dict[str, Any], seed: int) -> "NBSVM":
        x = NgramHasher(hyper["ngram_max"], hyper["hash_bits"]).matrix(train.texts)
        r = log_count_ratio(x, train.labels, hyper["alpha"])
        lr = LogisticRegression(C=hyper["C"], solver="liblinear", dual=True, max_iter=1000, random_state=seed)
        lr.fit(x.multiply(r).tocsr(), train.labels)
        model = cls(hyper, (lr.coef_.ravel() * r).astype(np.float32), float(lr.intercept_[0]))
        if len(val):
            model.metrics = {"val_accuracy": accuracy(val.labels, model.logits(val.texts))}
        return model

    @classmethod
    def restore(cls, hyper: dict[str, Any], saved: Saved) -> "NBSVM":
        return cls(hyper, saved.tensors["weight"].numpy(), float(saved.tensors["bias"]), saved.metrics)

    def save(self) -> Saved:
        tensors = {"weight": torch.from_numpy(self.weight), "bias": torch.tensor(self.bias, dtype=torch.float32)}
        return Saved(tensors, metrics=self.metrics)

    def logits(self, texts: list[str]) -> np.ndarray:
        return self.hasher.dot(texts, self.weight) + np.float32(self.bias)
