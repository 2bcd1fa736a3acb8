"""The encoder family fine-tuned for real (a few steps), the stack that reuses it, and the
distillation path of the command line on real reviews: encoder → teacher labels → students."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sentiment_app.artifacts.model_dir import load_model_dir
from sentiment_app.data.dataset import Reviews
from sentiment_app.errors import DataError
from sentiment_app.inference.model import SentimentModel
from sentiment_app.models.encoder import HYPERPARAMETERS, Encoder
from sentiment_app.models.encoder_stack import HYPERPARAMETERS as STACK_HYPERPARAMETERS
from sentiment_app.models.encoder_stack import EncoderStack
from tests.support import cli_in_home

pytestmark = pytest.mark.slow
HYPER = {**HYPERPARAMETERS, "max_tokens": 32, "batch_size": 8, "lr": 1e-4, "eval_every": 4, "eval_reviews": 16,
         "epochs": 2, "max_minutes": 2.0}
GOOD = ["wonderful", "great", "brilliant", "moving", "superb", "delightful"]
BAD = ["awful", "boring", "dreadful", "stupid", "dull", "terrible"]
TINY = ["--hp", "max_tokens=32", "--hp", "batch_size=8", "--hp", "eval_every=5", "--hp", "eval_reviews=16",
        "--hp", "max_minutes=1"]


def reviews(n: int, seed: int) -> Reviews:
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    texts = [f"The film was {rng.choice(GOOD if label else BAD)} and the cast was {rng.choice(GOOD if label else BAD)}."
             for label in labels]
    return Reviews(texts, labels.astype(np.int64))


@pytest.fixture(scope="module")
def fitted() -> Encoder:
    return Encoder.fit(reviews(64, 1), reviews(16, 2), HYPER, seed=1)


def test_fine_tuning_learns_the_task_and_records_its_validation(fitted: Encoder) -> None:
    p = 1 / (1 + np.exp(-fitted.logits(["The film was superb.", "The film was dreadful."])))
    assert p[0] > 0.5 > p[1]
    assert fitted.metrics["val_accuracy"] >= 0.9
    assert fitted.metrics["validation_fingerprint"] == reviews(16, 2).fingerprint()
    assert [h["step"] for h in fitted.metrics["history"]][:2] == [4, 8]


def test_saved_weights_are_float16_and_score_as_before(fitted: Encoder) -> None:
    saved = fitted.save()
    assert saved.tensors["encoder.encoder.layer.0.attention.self.query.weight"].element_size() == 2
    assert saved.vocab["model"]["type"] == "WordPiece" and saved.state["bert"]["hidden_size"] == 384
    restored = Encoder.restore(HYPER, saved)
    texts = reviews(10, 3).texts + ["meh", "x " * 400]
    np.testing.assert_allclose(restored.logits(texts), fitted.logits(texts), atol=1e-5)


def test_the_stack_reuses_an_encoder_validated_on_its_own_validation_part(fitted: Encoder) -> None:
    hyper = {**STACK_HYPERPARAMETERS, "ngram_hash_bits": 16, "max_encoder_words": 20}
    stack = EncoderStack.fit(reviews(64, 1), reviews(16, 2), hyper, seed=1, encoder=fitted)
    assert stack.encoder is fitted and stack.metrics["val_accuracy"] >= 0.9
    restored = EncoderStack.restore({**hyper, "encoder_max_tokens": 128}, stack.save())
    assert restored.encoder.hyper["max_tokens"] == 32  # the reused encoder's own settings travel with it
    texts = ["The film was superb.", "The film was dreadful.", reviews(1, 4).texts[0]]
    np.testing.assert_allclose(restored.logits(texts), stack.logits(texts), atol=1e-5)
    with pytest.raises(DataError, match="validated on other reviews"):
        EncoderStack.fit(reviews(64, 1), reviews(16, 3), hyper, seed=1, encoder=fitted)


def test_the_encoder_reads_only_inputs_within_max_encoder_words(fitted: Encoder) -> None:
    stack = EncoderStack.fit(reviews(64, 1), reviews(16, 2), {**STACK_HYPERPARAMETERS, "ngram_hash_bits": 16}, seed=1,
                             encoder=fitted)
    long = "The film was superb and the cast was great ."
    assert stack.logits([long])[0] != pytest.approx(stack.ngram.logits([long])[0])
    stack.hyper["max_encoder_words"] = 4
    np.testing.assert_allclose(stack.logits([long]), stack.ngram.logits([long]), atol=1e-6)
    assert stack.logits(["Superb."])[0] != pytest.approx(stack.ngram.logits(["Superb."])[0])


def test_distillation_from_the_command_line(tmp_path: Path, real_data: Path) -> None:
    """encoder → teacher-labels (cached) → nbsvm-stack --teacher and encoder-stack --encoder, on real reviews."""
    home, data = tmp_path / "home", ["--data", str(real_data), "--max-reviews", "300"]
    done = cli_in_home(home, "train", "--family", "encoder", *data, *TINY)
    assert done.exit_code == 0, done.output
    teacher = next((home / "models").glob("sentiment-encoder-*"))
    built = cli_in_home(home, "teacher-labels", "--teacher", str(teacher), *data)
    again = cli_in_home(home, "teacher-labels", "--teacher", str(teacher), *data)
    assert built.exit_code == 0 and again.exit_code == 0, built.output + again.output
    key = built.stdout.split("teacher labels: ")[1].strip()
    assert again.stdout.split("teacher labels: ")[1].strip() == key
    assert "teacher labels" in built.stderr and "teacher labels" not in again.stderr  # the progress bar: built once
    rows = Path(key).read_text("utf-8").splitlines()
    assert len(rows) > 300 and {row.split(",")[0] for row in rows} == {"sentence", "review"}

    student = cli_in_home(home, "train", "--family", "nbsvm-stack", "--teacher", str(teacher), *data,
                          "--hp", "hash_bits=18")
    assert student.exit_code == 0, student.output
    model_dir = next((home / "models").glob("sentiment-nbsvm-stack-*"))
    metrics = load_model_dir(model_dir).metrics
    assert metrics["teacher_rows"] == len(rows) and set(metrics["inputs"]) == {"teacher"}

    stack = cli_in_home(home, "train", "--family", "encoder-stack", "--encoder", str(teacher), *data,
                        "--hp", "ngram_hash_bits=18")
    assert stack.exit_code == 0, stack.output
    served = SentimentModel.load(next((home / "models").glob("sentiment-encoder-stack-*")))
    assert served.name == "encoder-stack" and served.predict_proba(["Great film.", "x " * 600]).shape == (2,)

    refused = cli_in_home(home, "train", "--family", "nbsvm", "--teacher", str(teacher), *data)
    assert refused.exit_code != 0 and "nbsvm takes no teacher" in refused.output
    not_an_encoder = cli_in_home(home, "train", "--family", "encoder-stack", "--encoder", str(model_dir), *data)
    assert not_an_encoder.exit_code != 0 and "not an encoder" in not_an_encoder.output
    assert json.loads((model_dir / "config.json").read_text())["model"] == "nbsvm-stack"
