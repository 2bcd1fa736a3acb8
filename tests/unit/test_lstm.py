"""The fast LSTMClassifier computes what the original (all 500 steps) computes, values and gradients."""

from __future__ import annotations

import torch

from sentiment_app.models.lstm import LSTMClassifier
from sentiment_app.models.registry import build_model


def original_forward(model: LSTMClassifier, x: torch.Tensor) -> torch.Tensor:
    """The course project's forward: LSTM over every position, read at ``length - 1``."""
    x = x.t()
    lengths, reviews = x[0, :], x[1:, :]
    lstm_out, _ = model.lstm(model.embedding(reviews))
    out = model.dense(lstm_out)
    out = out[lengths - 1, range(len(lengths))]
    return model.sig(out.squeeze())


def random_rows(n: int, pad: int = 500, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, pad + 1, (n,), generator=g)
    lengths[:3] = torch.tensor([1, pad, pad // 2])
    ids = torch.randint(1, 5000, (n, pad), generator=g)
    ids[torch.arange(pad).expand(n, pad) >= lengths[:, None]] = 0
    return torch.cat([lengths[:, None], ids], dim=1)


def test_same_outputs_and_gradients_as_the_original_forward() -> None:
    torch.manual_seed(0)
    model = LSTMClassifier(32, 100, 5000)
    x = random_rows(100)
    fast = model(x)
    fast.sum().backward()
    fast_grads = {k: p.grad.clone() for k, p in model.named_parameters()}
    model.zero_grad()
    slow = original_forward(model, x)
    slow.sum().backward()
    assert fast.shape == (100,)
    torch.testing.assert_close(fast, slow, atol=1e-6, rtol=1e-5)
    for name, p in model.named_parameters():
        torch.testing.assert_close(fast_grads[name], p.grad, atol=1e-5, rtol=1e-4, msg=name)


def test_parameter_names_match_the_original_state_dict() -> None:
    names = set(build_model("lstm-seed", {}).state_dict())
    assert names == {
        "embedding.weight", "lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0",
        "dense.weight", "dense.bias",
    }
