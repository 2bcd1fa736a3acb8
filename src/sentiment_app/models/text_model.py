"""What every model that reads review text (not the original's encoded rows) provides.

A text model is fitted on one training part with a validation part for its own choices (early
stopping, ensemble weights), is saved as tensors + a JSON vocabulary + JSON settings, and answers
with logits (log-odds of "positive") for raw texts, so models can be combined on one scale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch

from sentiment_app.data.dataset import Reviews


@dataclass
class Saved:
    """A fitted text model as the artifact files hold it."""

    tensors: dict[str, torch.Tensor]
    vocab: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)  # fitted settings (JSON), e.g. an ensemble weight
    metrics: dict[str, Any] = field(default_factory=dict)


class TextModel(Protocol):
    @classmethod
    def fit(cls, train: Reviews, val: Reviews, hyper: dict[str, Any], seed: int) -> "TextModel": ...

    @classmethod
    def restore(cls, hyper: dict[str, Any], saved: Saved) -> "TextModel": ...

    def save(self) -> Saved: ...

    def logits(self, texts: list[str]) -> np.ndarray: ...


def accuracy(labels: np.ndarray, logits: np.ndarray) -> float:
    return float(np.mean((logits >= 0) == (labels == 1))) if len(labels) else 0.0
