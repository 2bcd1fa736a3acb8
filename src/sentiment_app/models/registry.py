"""Model names → classes and their default hyperparameters; the one place new families register."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch import nn

from sentiment_app.models.lstm import LSTMClassifier


@dataclass(frozen=True)
class ModelSpec:
    name: str
    factory: type[nn.Module]
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    description: str = ""


MODELS: dict[str, ModelSpec] = {
    "lstm-seed": ModelSpec(
        name="lstm-seed",
        factory=LSTMClassifier,
        hyperparameters={"embedding_dim": 32, "hidden_dim": 100, "vocab_size": 5000},
        description="The original project's LSTMClassifier (embedding 32, LSTM 100, sigmoid at length-1).",
    ),
}
DEFAULT_MODEL = "lstm-seed"


def build_model(name: str, hyperparameters: dict[str, Any]) -> nn.Module:
    """Instantiate model ``name``; unknown names and hyperparameters fail with a clear message."""
    if name not in MODELS:
        raise ValueError(f"Unknown model {name!r}; known: {', '.join(MODELS)}")
    spec = MODELS[name]
    unknown = set(hyperparameters) - set(spec.hyperparameters)
    if unknown:
        raise ValueError(f"Model {name} does not take {sorted(unknown)}")
    return spec.factory(**{**spec.hyperparameters, **hyperparameters})
