"""Soft labels: a teacher model's probability of "positive" for texts nobody labelled.

The form in which a fine-tuned encoder's knowledge reaches the fast n-gram models (distillation,
Tang et al. 2019): ``kind,probability,text`` CSV rows, ``kind`` being ``sentence`` or ``review``.
In a training job they are the ``teacher`` channel's ``teacher.csv``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sentiment_app.errors import DataError
from sentiment_app.fileio import atomic_open

TEACHER_CHANNEL = "teacher"
TEACHER_FILE = "teacher.csv"
KINDS = ("sentence", "review")


@dataclass(frozen=True)
class SoftLabels:
    texts: list[str]
    probabilities: np.ndarray  # float32, the teacher's p(positive)
    sentence: np.ndarray  # bool: a sentence (else a whole review)

    def __len__(self) -> int:
        return len(self.texts)

    def of_kind(self, sentence: bool) -> "SoftLabels":
        index = np.flatnonzero(self.sentence == sentence)
        return SoftLabels([self.texts[i] for i in index], self.probabilities[index], self.sentence[index])


def write_soft_labels(path: Path, labels: SoftLabels) -> None:
    rows = zip((KINDS[0] if s else KINDS[1] for s in labels.sentence.tolist()),
               (f"{p:.4f}" for p in labels.probabilities.tolist()), labels.texts)
    with atomic_open(path, "w") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def read_soft_labels(path: Path) -> SoftLabels:
    """Inverse of :func:`write_soft_labels`; a malformed row is a DataError naming its line."""
    texts, probabilities, sentence = [], [], []
    try:
        with open(path, encoding="utf-8", newline="") as f:
            for line, row in enumerate(csv.reader(f), start=1):
                if len(row) != 3 or row[0] not in KINDS:
                    raise DataError(f"{path}, line {line}: expected kind,probability,text with kind in {KINDS}")
                try:
                    p = float(row[1])
                except ValueError:
                    p = float("nan")
                if not 0.0 <= p <= 1.0:
                    raise DataError(f"{path}, line {line}: the probability must be within 0..1, got {row[1]!r}")
                sentence.append(row[0] == KINDS[0])
                probabilities.append(p)
                texts.append(row[2])
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"Cannot read the soft labels {path}: {exc}") from exc
    return SoftLabels(texts, np.array(probabilities, dtype=np.float32), np.array(sentence, dtype=bool))
