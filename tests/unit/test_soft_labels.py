"""Teacher labels: the soft-label file and the transfer set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sentiment_app.errors import DataError
from sentiment_app.features.soft_labels import SoftLabels, read_soft_labels, write_soft_labels
from sentiment_app.store.local import LocalStore
from sentiment_app.training.teacher import TransferSettings, build_teacher_labels, transfer_set

UNLABELED = ["A fine film. It was, in truth, rather good!<br /><br />Ok.", "Dull, slow and long. I left early.",
             "Never again would I watch such a thing. The end."]


def test_soft_labels_round_trip_with_commas_quotes_and_line_breaks(tmp_path: Path) -> None:
    labels = SoftLabels(['Good, "very" good', "bad\nfilm"], np.array([0.9, 0.125], np.float32), np.array([True, False]))
    write_soft_labels(tmp_path / "t.csv", labels)
    back = read_soft_labels(tmp_path / "t.csv")
    assert back.texts == labels.texts and back.sentence.tolist() == [True, False]
    np.testing.assert_allclose(back.probabilities, labels.probabilities, atol=1e-4)
    assert back.of_kind(sentence=False).texts == ["bad\nfilm"]


@pytest.mark.parametrize("row", ["sentence,1.5,text", "phrase,0.5,text", "sentence,nan,text", "sentence,0.5"])
def test_a_malformed_row_is_a_data_error_naming_its_line(tmp_path: Path, row: str) -> None:
    (tmp_path / "t.csv").write_text(f"review,0.5,fine\n{row}\n")
    with pytest.raises(DataError, match="line 2"):
        read_soft_labels(tmp_path / "t.csv")


def test_the_transfer_set_holds_sentences_in_the_length_range_and_whole_reviews() -> None:
    texts = transfer_set(UNLABELED, TransferSettings(sentences=100, reviews=2, shortest=2, longest=5))
    sentences = [t for t, s in zip(texts.texts, texts.sentence) if s]
    assert sorted(sentences) == ["A fine film.", "I left early.", "Ok.", "The end."]  # 2..5 tokens, marks included
    reviews = [t for t, s in zip(texts.texts, texts.sentence) if not s]
    assert len(reviews) == 2 and all("<br" not in r for r in reviews)


def test_labels_are_built_once_then_found_in_the_store(tmp_path: Path) -> None:
    store, calls = LocalStore(tmp_path / "store"), []

    def teacher(texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        return np.array([0.9 if "good" in t or "fine" in t else 0.1 for t in texts], np.float32)

    key, built = build_teacher_labels(store, teacher, "v1", UNLABELED, TransferSettings(), tmp_path / "work.csv")
    again, rebuilt = build_teacher_labels(store, teacher, "v1", UNLABELED, TransferSettings(), tmp_path / "work.csv")
    other, _ = build_teacher_labels(store, teacher, "v2", UNLABELED, TransferSettings(), tmp_path / "work.csv")
    assert built and not rebuilt and key == again != other and len(calls) == 2
    labels = read_soft_labels(store.get_file(key, tmp_path / "got.csv"))
    assert labels.probabilities[labels.texts.index("A fine film.")] == pytest.approx(0.9)
