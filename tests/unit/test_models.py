"""The model families without a training run: their tokenizer, padding that never leaks into a score,
the ensemble weight, the ``models`` command, and unknown families or hyperparameters refused by the
entry point and the CLI. (Families trained on real reviews and served: ``tests/system/test_models.py``.)"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from sentiment_app.cli import main
from sentiment_app.features.tokens import tokenize
from sentiment_app.models.bilstm import BiLSTM
from sentiment_app.models.ensemble import choose_weight
from sentiment_app.models.region_cnn import RegionCNN
from sentiment_app.models.registry import DEFAULT_MODEL, MODELS
from sentiment_app.training.train import main as train_main


def test_tokenizer_keeps_negations_and_punctuation() -> None:
    assert tokenize("I didn't like it. Not good, NO fun?! <br />Can't") == [
        "i", "did", "n't", "like", "it", ".", "not", "good", ",", "no", "fun", "?", "!", "ca", "n't"]
    assert tokenize("It wasn\u2019t bad: 10/10 :)") == ["it", "was", "n't", "bad", ":", "10", "/", "10", ":", ")"]


def test_choose_weight_follows_the_labels_it_is_given() -> None:
    labels = np.array([1, 1, 0, 0])
    right, wrong = np.array([1.0, 1.0, -1.0, -1.0]), np.array([-1.0, -1.0, 1.0, 1.0])
    weight, accuracy = choose_weight(labels, right, wrong)
    flipped_weight, flipped_accuracy = choose_weight(1 - labels, right, wrong)
    assert weight > 0.5 > flipped_weight and accuracy == flipped_accuracy == 1.0


@pytest.mark.parametrize("args, message", [
    (["--family", "nbsvm", "--layers", "2"], "unrecognized arguments: --layers 2"),
    (["--family", "bilstm", "--hidden_dim", "wide"], "argument --hidden-dim/--hidden_dim: invalid int value: 'wide'"),
    (["--family", "nope"], "invalid choice: 'nope'"),
    (["--model", "nope"], "invalid choice: 'nope'"),
])
def test_entry_point_refuses_unknown_models_and_hyperparameters(args: list[str], message: str, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        train_main([*args, "--data-dir", str(tmp_path), "--model-dir", str(tmp_path / "m")])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_cli_refuses_unknown_models_and_hyperparameters(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["train", "--home", str(tmp_path), "--family", "nope"])
    assert result.exit_code == 2 and "'nope' is not one of" in result.output
    result = runner.invoke(main, ["train", "--home", str(tmp_path), "--family", "nbsvm", "--hp", "layers=2"])
    assert result.exit_code == 1 and "does not take ['layers']" in result.output
    result = runner.invoke(main, ["train", "--home", str(tmp_path), "--family", "nbsvm", "--hp", "C=high"])
    assert result.exit_code == 1 and "C='high' is not a float" in result.output
    result = runner.invoke(main, ["pipeline", "--home", str(tmp_path), "--family", "bilstm", "--epochs", "3"])
    assert result.exit_code == 1 and "--hp KEY=VALUE" in result.output


def test_model_naming_a_family_still_works_and_says_it_is_deprecated(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["train", "--home", str(tmp_path), "--model", "nbsvm", "--hp", "layers=2"])
    assert result.exit_code == 1 and "does not take ['layers']" in result.output  # read as --family nbsvm
    assert "--model is deprecated for that, use --family nbsvm" in result.output
    result = CliRunner().invoke(main, ["train", "--home", str(tmp_path), "--model", "nbsvm", "--family", "bilstm"])
    assert result.exit_code == 2 and "disagree" in result.output


def test_families_command_lists_families_and_marks_the_default() -> None:
    result = CliRunner().invoke(main, ["families", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert [m["name"] for m in listed] == list(MODELS)
    assert [m["name"] for m in listed if m["default"]] == [DEFAULT_MODEL]
    assert next(m for m in listed if m["name"] == "nbsvm")["hyperparameters"]["ngram_max"] == 3
    assert next(m for m in listed if m["name"] == "encoder-stack")["inputs"] == ["encoder", "teacher"]
    text = CliRunner().invoke(main, ["families"]).output
    assert f"{DEFAULT_MODEL} (default)" in text and "lstm-seed (training default)" in text
    assert "optional inputs: --encoder MODEL, --teacher MODEL" in text


@pytest.mark.parametrize("family, hyper", [
    (BiLSTM, {"vocab_size": 50, "embedding_dim": 8, "hidden_dim": 6, "dropout": 0.5}),
    (RegionCNN, {"vocab_size": 50, "hidden_dim": 6, "region": 3, "dropout": 0.5, "init_std": 0.5}),
])
def test_batches_of_mixed_lengths_match_reviews_scored_alone(family, hyper: dict) -> None:
    """Padding never leaks into a review's score (packing, masks); "z" is shorter than a region."""
    torch.manual_seed(0)
    model = family({**hyper, "max_len": 10}, {w: i for i, w in enumerate("abcdefghijklmnopqrstuvwxyz", start=2)},
                   family.build(hyper))
    texts = ["a b c", "d e f g h i j k l m n o p", "z", "q r s t u"]  # the second is clipped to its ends
    alone = np.array([model.logits([text])[0] for text in texts])
    assert model.logits(texts) == pytest.approx(alone, abs=1e-5)
    assert model.encode(texts[1:2]) == [[5, 6, 7, 8, 9, 13, 14, 15, 16, 17]]
