"""The model registry: the seed recipe's hyperparameters, and unknown models or hyperparameters refused."""

from __future__ import annotations

import pytest

from sentiment_app.models.registry import MODELS, build_model


def test_registry_builds_the_seed_recipe() -> None:
    model = build_model("lstm-seed", {})
    assert MODELS["lstm-seed"].hyperparameters == {"epochs": 10, "batch_size": 512, "lr": 1e-3,
                                                   "embedding_dim": 32, "hidden_dim": 100, "vocab_size": 5000}
    assert model.lstm.hidden_size == 100 and model.embedding.num_embeddings == 5000


@pytest.mark.parametrize("name, hyper, message", [("nope", {}, "Unknown model"), ("lstm-seed", {"layers": 2}, "layers")])
def test_registry_rejects_unknown_models_and_hyperparameters(name: str, hyper: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_model(name, hyper)
