"""A trained model ready to answer: raw review text in, probability of "positive" out.

It knows the model's feature pipeline, so the serving layer only ever sees texts and
probabilities. ``lstm-seed`` goes through the original features (the same ``Tokenizer`` and
dictionary as training) and also scores already encoded rows; the text models restore
themselves from the same artifact files and turn texts into logits on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from scipy.special import expit

from sentiment_app.artifacts.model_dir import ModelArtifacts, load_model_dir
from sentiment_app.features.encode import encode_rows
from sentiment_app.features.text import Tokenizer
from sentiment_app.models.registry import ROWS, build_model, get_spec
from sentiment_app.models.text_model import Saved


class SentimentModel:
    def __init__(self, artifacts: ModelArtifacts) -> None:
        config = artifacts.config
        self.name: str = config["model"]
        self.version = artifacts.version
        self.vocab = artifacts.vocab
        self.metrics = artifacts.metrics
        spec = get_spec(self.name)
        # pad: length of an encoded row (lstm-seed only); None for models that only read text
        self.pad: int | None = int(config["pad"]) if spec.channel == ROWS else None
        if spec.channel == ROWS:
            self.network = build_model(self.name, config["hyperparameters"])
            self.network.load_state_dict(artifacts.state_dict)
            self.network.eval()
            self.tokenize = Tokenizer()
        else:
            saved = Saved(artifacts.state_dict, artifacts.vocab, config.get("state", {}), artifacts.metrics)
            self.text_model = spec.factory.restore(config["hyperparameters"], saved)

    @classmethod
    def load(cls, model_dir: Path) -> "SentimentModel":
        return cls(load_model_dir(Path(model_dir)))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Rows ``length, ids[pad]`` exactly as the training data was encoded (lstm-seed)."""
        return encode_rows(self.vocab, [self.tokenize(text, limit=self.pad) for text in texts], self.pad)

    @torch.inference_mode()
    def predict_rows(self, rows: np.ndarray) -> np.ndarray:
        """Probabilities of "positive" for already encoded rows (lstm-seed)."""
        if self.pad is None:
            raise ValueError(f"Model {self.name} reads review text, not encoded rows")
        if len(rows) == 0:
            return np.zeros(0, dtype=np.float32)
        return self.network(torch.as_tensor(rows, dtype=torch.int64)).reshape(-1).numpy()

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities of "positive" for raw review texts."""
        if self.pad is not None:
            return self.predict_rows(self.encode(texts))
        if len(texts) == 0:
            return np.zeros(0, dtype=np.float32)
        return expit(np.asarray(self.text_model.logits(list(texts)), dtype=np.float64)).astype(np.float32)
