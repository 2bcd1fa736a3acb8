"""The fine-tuned encoder and the n-gram stack combined by input length.

The n-gram stack (:mod:`.nbsvm_stack`) reads long reviews well and fast; the encoder
(:mod:`.encoder`) reads a short sentence far better (negation, other domains) but sees only a
review's head and tail. A logistic regression over ``[z_n, z_e, z_n·g, z_e·g, g]`` (their logits
and ``g = log(1 + tokens)``) combines them on the n-gram stack's calibration set of the
movie-grouped validation part (its reviews, and confident sentences of them), so the mix shifts
with the input's length and the probability stays calibrated.

``max_encoder_words`` > 0 runs the encoder only on inputs of at most that many tokens; longer
ones get the n-gram stack's answer alone, at its speed. 0 runs it on every input.

The encoder is fine-tuned here, or given (the training job's ``encoder`` channel: a model of the
``encoder`` family trained on the same training part, checked by its validation fingerprint), so
the better part of an hour of fine-tuning is not spent twice.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from sklearn.linear_model import LogisticRegression

from sentiment_app.data.dataset import Reviews, concatenate
from sentiment_app.errors import DataError
from sentiment_app.features.soft_labels import SoftLabels
from sentiment_app.models import encoder as encoder_family
from sentiment_app.models import nbsvm_stack
from sentiment_app.models.encoder import Encoder
from sentiment_app.models.ensemble import member_hyper
from sentiment_app.models.text_model import Saved, accuracy

MEMBERS = {"ngram": nbsvm_stack.HYPERPARAMETERS, "encoder": encoder_family.HYPERPARAMETERS}
HYPERPARAMETERS = {**{f"{member}_{key}": value for member, hp in MEMBERS.items() for key, value in hp.items()},
                   "max_encoder_words": 0, "C_combine": 1.0}
SHORT_INPUT = 64  # tokens: two typed sentences fit, almost no IMDB review does (the fast variant's cut)
FEATURES = 5


class EncoderStack:
    name = "encoder-stack"

    def __init__(self, hyper: dict[str, Any], ngram: nbsvm_stack.NBSVMStack, net: Encoder,
                 combine: np.ndarray, metrics: dict | None = None) -> None:
        self.hyper = hyper
        self.ngram = ngram
        self.encoder = net
        self.combine = combine  # FEATURES coefficients, then the intercept
        self.metrics = metrics or {}

    @classmethod
    def fit(cls, train: Reviews, val: Reviews, hyper: dict[str, Any], seed: int,
            encoder: Encoder | None = None, teacher: SoftLabels | None = None) -> "EncoderStack":
        """``encoder``: one fine-tuned before on ``train`` (checked: it was validated on ``val``);
        ``teacher``: soft labels for the n-gram members (:mod:`.nbsvm_stack`)."""
        ngram_hyper = member_hyper(hyper, "ngram")
        ngram = nbsvm_stack.NBSVMStack.fit_held_out(train, val, ngram_hyper, seed, teacher)
        if encoder is not None and encoder.metrics.get("validation_fingerprint") != val.fingerprint():
            raise DataError("The encoder given was validated on other reviews than this job's validation part: "
                            "train it on the same data, seed and validation fraction, or give none to fine-tune one here")
        net = encoder or Encoder.fit(train, val, member_hyper(hyper, "encoder"), seed)
        calibration = nbsvm_stack.NBSVMStack.calibration_set(ngram.hasher, ngram.members, val, ngram_hyper)
        z_ngram, lengths = ngram.logits_and_lengths(calibration.texts)
        read = np.flatnonzero(_reads(lengths, hyper["max_encoder_words"]))
        if len(np.unique(calibration.labels[read])) < 2:
            raise DataError(f"max_encoder_words={hyper['max_encoder_words']} leaves {len(read)} validation texts of "
                            "one label or none to combine the models on: raise it, or train on more reviews")
        texts = [calibration.texts[i] for i in read]
        x = _features(z_ngram[read], net.logits(texts), lengths[read])
        lr = LogisticRegression(C=hyper["C_combine"], max_iter=5000).fit(x, calibration.labels[read])
        combine = np.append(lr.coef_.ravel(), lr.intercept_[0]).astype(np.float64)
        model = cls(hyper, ngram, net, combine)
        model.metrics = {"val_accuracy": accuracy(val.labels, model.logits(val.texts)), "combined_rows": len(read),
                         "ngram": ngram.metrics, "encoder": net.metrics}
        ngram.members = nbsvm_stack.Members.fit(ngram.hasher, concatenate([train, val]), ngram_hyper, seed, teacher)
        return model

    @classmethod
    def restore(cls, hyper: dict[str, Any], saved: Saved) -> "EncoderStack":
        part = lambda name: {k.removeprefix(f"{name}."): v for k, v in saved.tensors.items() if k.startswith(f"{name}.")}  # noqa: E731
        ngram = nbsvm_stack.NBSVMStack.restore(member_hyper(hyper, "ngram"), Saved(part("ngram")))
        net = Encoder.restore(saved.state["encoder_hyperparameters"], Saved(part("encoder"), saved.vocab, saved.state))
        return cls(hyper, ngram, net, saved.tensors["combine"].numpy().astype(np.float64), saved.metrics)

    def save(self) -> Saved:
        net = self.encoder.save()
        tensors = {**{f"ngram.{k}": v for k, v in self.ngram.save().tensors.items()},
                   **{f"encoder.{k}": v for k, v in net.tensors.items()}, "combine": torch.from_numpy(self.combine)}
        state = {**net.state, "encoder_hyperparameters": self.encoder.hyper}  # a reused encoder keeps its own
        return Saved(tensors, vocab=net.vocab, state=state, metrics=self.metrics)

    def logits(self, texts: list[str]) -> np.ndarray:
        z, lengths = self.ngram.logits_and_lengths(texts)
        out = z.astype(np.float64)
        read = np.flatnonzero(_reads(lengths, self.hyper["max_encoder_words"]))
        if len(read):
            z = _features(out[read], self.encoder.logits([texts[i] for i in read]), lengths[read])
            out[read] = z @ self.combine[:FEATURES] + self.combine[FEATURES]
        return out.astype(np.float32)


def _reads(lengths: np.ndarray, max_words: int) -> np.ndarray:
    """Which inputs the encoder reads."""
    return lengths <= max_words if max_words > 0 else np.ones(len(lengths), dtype=bool)


def _features(z_ngram: np.ndarray, z_encoder: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    g = np.log1p(lengths)
    return np.column_stack([z_ngram, z_encoder, z_ngram * g, z_encoder * g, g]).astype(np.float64)
