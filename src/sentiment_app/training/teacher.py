"""Teacher labels: what a fine-tuned encoder says of the unlabeled reviews, for the fast models to learn.

The transfer set is the 50,000 unlabeled reviews: a seeded sample of their sentences of
``shortest``..``longest`` tokens (the lengths people type) and of the whole reviews. Labelled
training reviews are left out on purpose: a student fitted on the teacher's view of its own
validation reviews would be validated on what it was shown. The result is cached in the store
under a key made of the teacher's version, the reviews' content and these settings, so building
it (the slow part) happens once and every student trained later reuses it.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from sentiment_app.features.soft_labels import TEACHER_FILE, SoftLabels, write_soft_labels
from sentiment_app.features.tokens import clean_text, sentences, tokenize
from sentiment_app.store import ArtifactStore

PREFIX = "teacher-labels"
TEACHER_VERSION = 1  # what a build computes; a change makes new keys
CHUNK = 512  # texts per predict call: the bar moves, the batches stay large enough to sort by length


@dataclass(frozen=True)
class TransferSettings:
    sentences: int = 150_000
    reviews: int = 20_000
    shortest: int = 2
    longest: int = 20
    seed: int = 1


def transfer_set(unlabeled: list[str], settings: TransferSettings) -> SoftLabels:
    """The texts to label (probabilities still zero): sampled sentences, then sampled reviews."""
    rng = np.random.default_rng(settings.seed)
    cut = [s for text in unlabeled for s in sentences(text) if settings.shortest <= len(tokenize(s)) <= settings.longest]
    picked = [cut[i] for i in np.sort(rng.permutation(len(cut))[: settings.sentences])]
    reviews = [clean_text(unlabeled[i]) for i in np.sort(rng.permutation(len(unlabeled))[: settings.reviews])]
    kinds = np.concatenate([np.ones(len(picked), bool), np.zeros(len(reviews), bool)])
    return SoftLabels(picked + reviews, np.zeros(len(kinds), np.float32), kinds)


def label(predict_proba: Callable[[list[str]], np.ndarray], texts: SoftLabels) -> SoftLabels:
    """``texts`` with the teacher's probabilities, in chunks under a progress bar."""
    out = np.empty(len(texts), dtype=np.float32)
    with tqdm(total=len(texts), desc="teacher labels", unit="text", file=sys.stderr) as bar:
        for start in range(0, len(texts), CHUNK):
            chunk = texts.texts[start:start + CHUNK]
            out[start:start + len(chunk)] = predict_proba(chunk)
            bar.update(len(chunk))
    return SoftLabels(texts.texts, out, texts.sentence)


def labels_key(teacher_version: str, unlabeled_fingerprint: str, settings: TransferSettings) -> str:
    key = json.dumps({"teacher": teacher_version, "data": unlabeled_fingerprint, "settings": asdict(settings),
                      "version": TEACHER_VERSION}, sort_keys=True)
    return f"{PREFIX}/{hashlib.sha256(key.encode()).hexdigest()[:16]}/{TEACHER_FILE}"


def unlabeled_fingerprint(unlabeled: list[str]) -> str:
    digest = hashlib.sha256()
    for text in unlabeled:
        digest.update(text.encode("utf-8") + b"\x00")
    return digest.hexdigest()


def build_teacher_labels(store: ArtifactStore, predict_proba: Callable[[list[str]], np.ndarray], teacher_version: str,
                         unlabeled: list[str], settings: TransferSettings, work_file: Path) -> tuple[str, bool]:
    """The store key of the labels, built now unless cached; and whether they were built."""
    key = labels_key(teacher_version, unlabeled_fingerprint(unlabeled), settings)
    if store.exists(key):
        return key, False
    write_soft_labels(work_file, label(predict_proba, transfer_set(unlabeled, settings)))
    store.put_file(key, work_file)
    return key, True
