"""Two negation-aware NBSVMs, one for whole reviews and one that also learned from single sentences,
stacked by input length: the default for what people type.

A model fitted on 230-word reviews meets one-line inputs with little evidence and misjudges them;
one fitted on sentences cut from the same reviews (each taking its review's label) reads short
inputs better and long ones worse. Both read binary 1..n-grams of negation-marked tokens ("not
good" → "not NOT_good"; ``features.tokens.mark_negation``) hashed into one bucket space:

* ``reviews``: NBSVM (Wang & Manning 2012) on the training reviews, as :mod:`.nbsvm`;
* ``sentences``: NBSVM on the reviews plus their sentences of ``sentence_min``..``sentence_max``
  tokens (weighted ``sentence_weight``), rows L2-normalised so that length does not set the scale.

A logistic regression over ``[z_r, z_s, z_r·g, z_s·g, g]`` with ``g = log(1 + tokens)`` combines
them; it is fitted on the movie-grouped validation part (its reviews, and the sentences of those
reviews that the review model judges with at least ``calibration_confidence``), so it also
calibrates: the probability it gives means the same for a sentence and for a review. The members
are then refitted on all the training data, and the combination kept.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from sentiment_app.data.dataset import Reviews, concatenate
from sentiment_app.features.ngrams import NgramHasher
from sentiment_app.features.soft_labels import SoftLabels
from sentiment_app.features.tokens import sentences, tokenize
from sentiment_app.models.nbsvm import log_count_ratio
from sentiment_app.models.text_model import Saved, accuracy

HYPERPARAMETERS = {"ngram_max": 3, "hash_bits": 22, "alpha": 1.0, "C_reviews": 0.3, "C_sentences": 3.0,
                   "sentence_weight": 0.5, "sentence_min": 2, "sentence_max": 20, "C_stack": 1.0,
                   "calibration_confidence": 0.95, "teacher_weight": 1.0}
STACK_FEATURES = 5


def sentence_cuts(reviews: Reviews, shortest: int, longest: int) -> Reviews:
    """Every sentence of ``shortest``..``longest`` tokens of every review, with its review's label."""
    cut = [(s, label) for text, label in zip(reviews.texts, reviews.labels.tolist()) for s in sentences(text)
           if shortest <= len(tokenize(s)) <= longest]
    return Reviews([s for s, _ in cut], np.array([label for _, label in cut], dtype=np.int64))


@dataclass
class Members:
    """The two NBSVMs as served: weights per bucket (``coef * r``) and the sentence model's ``r²``
    for its row norm, all stored as float16 (half the artifact; :meth:`fit` rounds them so, so the
    weights measured are the weights served), and both biases."""

    reviews: np.ndarray
    sentences: np.ndarray
    sentences_r2: np.ndarray
    biases: np.ndarray  # [reviews, sentences]

    @classmethod
    def fit(cls, hasher: NgramHasher, train: Reviews, hyper: dict[str, Any], seed: int,
            teacher: SoftLabels | None = None) -> "Members":
        cuts = sentence_cuts(train, hyper["sentence_min"], hyper["sentence_max"])
        taught = teacher if teacher is not None else SoftLabels([], np.zeros(0, np.float32), np.zeros(0, bool))
        # Each soft label is two rows, one per class, weighted by the teacher's probability of it.
        soft_labels = np.concatenate([np.ones(len(taught)), np.zeros(len(taught))])
        soft_weights = hyper["teacher_weight"] * np.concatenate([taught.probabilities, 1 - taught.probabilities])
        x = hasher.matrix(train.texts + cuts.texts + taught.texts)
        x = sparse.vstack([x, x[len(train) + len(cuts):]]).tocsr()
        labels = np.concatenate([train.labels, cuts.labels, soft_labels])
        weights = np.concatenate([np.ones(len(train)), np.full(len(cuts), hyper["sentence_weight"]), soft_weights])
        review_rows = np.concatenate([np.arange(len(train)), len(train) + len(cuts) + np.flatnonzero(
            np.tile(~taught.sentence, 2))])
        docs, doc_labels, doc_weights = x[review_rows], labels[review_rows], weights[review_rows]
        r = log_count_ratio(docs, doc_labels, hyper["alpha"], doc_weights)
        review_lr = LogisticRegression(C=hyper["C_reviews"], solver="liblinear", dual=True, max_iter=1000,
                                       random_state=seed).fit(docs.multiply(r).tocsr(), doc_labels,
                                                              sample_weight=doc_weights)
        rs = log_count_ratio(x, labels, hyper["alpha"], weights)
        scaled = x.multiply(rs).tocsr()
        norms = np.sqrt(np.asarray(scaled.multiply(scaled).sum(axis=1)).ravel())
        scaled = sparse.diags(1 / np.maximum(norms, 1e-12)) @ scaled
        sentence_lr = LogisticRegression(C=hyper["C_sentences"], solver="liblinear", dual=True, max_iter=1000,
                                         random_state=seed).fit(scaled, labels, sample_weight=weights)
        half = lambda v: v.astype(np.float16).astype(np.float32)  # noqa: E731
        return cls(half(review_lr.coef_.ravel() * r), half(sentence_lr.coef_.ravel() * rs), half(rs.astype(np.float64) ** 2),
                   np.array([review_lr.intercept_[0], sentence_lr.intercept_[0]], dtype=np.float32))

    def scores(self, hasher: NgramHasher, texts: list[str]) -> np.ndarray:
        """``[z_r, z_s, z_r·g, z_s·g, g]`` per text (the stacker's inputs)."""
        return self.scores_and_lengths(hasher, texts)[0]

    def scores_and_lengths(self, hasher: NgramHasher, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`scores`, and each text's number of tokens (counted once, by the hasher)."""
        review, bucket, lengths = hasher.pairs_and_lengths(texts)
        total = lambda weight: np.bincount(review, weights=weight[bucket], minlength=len(texts))  # noqa: E731
        z_reviews = total(self.reviews) + self.biases[0]
        z_sentences = total(self.sentences) / np.sqrt(np.maximum(total(self.sentences_r2), 1e-12)) + self.biases[1]
        g = np.log1p(lengths)
        return np.column_stack([z_reviews, z_sentences, z_reviews * g, z_sentences * g, g]), lengths


class NBSVMStack:
    name = "nbsvm-stack"

    def __init__(self, hyper: dict[str, Any], members: Members, stack: np.ndarray, metrics: dict | None = None) -> None:
        self.hyper = hyper
        self.hasher = NgramHasher(hyper["ngram_max"], hyper["hash_bits"], negation=True)
        self.members = members
        self.stack = stack  # STACK_FEATURES coefficients, then the intercept
        self.metrics = metrics or {}

    @classmethod
    def fit(cls, train: Reviews, val: Reviews, hyper: dict[str, Any], seed: int,
            teacher: SoftLabels | None = None) -> "NBSVMStack":
        """Stack on ``val`` with members fitted on ``train``, then refit the members on both.
        ``teacher``: a teacher's soft labels, learnt by both members as well."""
        model = cls.fit_held_out(train, val, hyper, seed, teacher)
        model.members = Members.fit(model.hasher, concatenate([train, val]), hyper, seed, teacher)
        if teacher is not None:
            model.metrics["teacher_rows"] = len(teacher)
        return model

    @classmethod
    def fit_held_out(cls, train: Reviews, val: Reviews, hyper: dict[str, Any], seed: int,
                     teacher: SoftLabels | None = None) -> "NBSVMStack":
        """Members fitted on ``train`` alone and the stack on ``val``: what a combiner over this
        model and others is fitted on before :meth:`refit`."""
        started = time.perf_counter()
        hasher = NgramHasher(hyper["ngram_max"], hyper["hash_bits"], negation=True)
        members = Members.fit(hasher, train, hyper, seed, teacher)
        calibration = cls.calibration_set(hasher, members, val, hyper)
        x = members.scores(hasher, calibration.texts)
        lr = LogisticRegression(C=hyper["C_stack"], max_iter=5000).fit(x, calibration.labels)
        stack = np.append(lr.coef_.ravel(), lr.intercept_[0]).astype(np.float64)
        model = cls(hyper, members, stack)
        model.metrics = {"val_accuracy": accuracy(val.labels, model.logits(val.texts)),
                         "calibration_rows": len(calibration), "members_seconds": time.perf_counter() - started}
        return model

    @staticmethod
    def calibration_set(hasher: NgramHasher, members: Members, val: Reviews, hyper: dict[str, Any]) -> Reviews:
        """The validation reviews, and the sentences of those the review model is confident about (a
        sentence of a lukewarm review often says nothing of its verdict)."""
        z = members.scores(hasher, val.texts)[:, 0]
        confident = np.abs(1 / (1 + np.exp(-z)) - 0.5) >= hyper["calibration_confidence"] - 0.5
        cuts = sentence_cuts(val.take(np.flatnonzero(confident)), hyper["sentence_min"], hyper["sentence_max"])
        return concatenate([Reviews(val.texts, val.labels), cuts])

    @classmethod
    def restore(cls, hyper: dict[str, Any], saved: Saved) -> "NBSVMStack":
        t = {k: v.numpy().astype(np.float32) for k, v in saved.tensors.items() if k != "stack"}
        members = Members(t["reviews"], t["sentences"], t["sentences_r2"], t["biases"])
        return cls(hyper, members, saved.tensors["stack"].numpy().astype(np.float64), saved.metrics)

    def save(self) -> Saved:
        m = self.members
        tensors = {name: torch.from_numpy(value.astype(np.float16)) for name, value in
                   (("reviews", m.reviews), ("sentences", m.sentences), ("sentences_r2", m.sentences_r2))}
        tensors.update(biases=torch.from_numpy(m.biases), stack=torch.from_numpy(self.stack))
        return Saved(tensors, metrics=self.metrics)

    def logits(self, texts: list[str]) -> np.ndarray:
        return self.logits_and_lengths(texts)[0]

    def logits_and_lengths(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The logits, and each text's number of tokens (for a combiner that also weighs length)."""
        x, lengths = self.members.scores_and_lengths(self.hasher, texts)
        return (x @ self.stack[:STACK_FEATURES] + self.stack[STACK_FEATURES]).astype(np.float32), lengths
