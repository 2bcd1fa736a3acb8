"""A trained model ready to answer: raw review text in, probability of "positive" out.

It knows the feature pipeline (the same ``Tokenizer`` and dictionary as training) and the network,
so the serving layer only ever sees texts and probabilities.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from sentiment_app.artifacts import ModelArtifacts, load_model_dir
from sentiment_app.features.encode import encode_rows
from sentiment_app.features.text import Tokenizer
from sentiment_app.models.registry import build_model


class SentimentModel:
    def __init__(self, artifacts: ModelArtifacts) -> None:
        config = artifacts.config
        self.name: str = config["model"]
        self.pad: int = int(config["pad"])
        self.version = artifacts.version
        self.vocab = artifacts.vocab
        self.metrics = artifacts.metrics
        self.network = build_model(self.name, config["hyperparameters"])
        self.network.load_state_dict(artifacts.state_dict)
        self.network.eval()
        self.tokenize = Tokenizer()

    @classmethod
    def load(cls, model_dir: Path) -> "SentimentModel":
        return cls(load_model_dir(Path(model_dir)))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Rows ``length, ids[pad]`` exactly as the training data was encoded."""
        return encode_rows(self.vocab, [self.tokenize(text) for text in texts], self.pad)

    @torch.inference_mode()
    def predict_rows(self, rows: np.ndarray) -> np.ndarray:
        """Probabilities of "positive" for already encoded rows."""
        if len(rows) == 0:
            return np.zeros(0, dtype=np.float32)
        return self.network(torch.as_tensor(rows, dtype=torch.int64)).reshape(-1).numpy()

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities of "positive" for raw review texts."""
        return self.predict_rows(self.encode(texts))
