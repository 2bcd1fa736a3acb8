"""The features Model Monitor's files describe: one row per review, with what Data Capture alone
tells (no vocabulary, no labels), so a SageMaker monitoring schedule can compute the same columns
from the same capture files: the review's length in words, the model's probability of "positive"
(missing where the answer gave none) and its label."""

from __future__ import annotations

from collections.abc import Sequence

from sentiment_app.monitoring.statistics import words
from sentiment_app.monitoring.traffic import Captured

REVIEW_WORDS, PROBABILITY, LABEL = "review_words", "probability", "label"
Column = list[int | float | str | None]  # None is a missing value


def feature_columns(reviews: Sequence[str], probabilities: Sequence[float | None],
                    labels: Sequence[str]) -> dict[str, Column]:
    """The feature columns of reviews and the model's answers to them, aligned row by row."""
    return {REVIEW_WORDS: [len(words(review)) for review in reviews],
            PROBABILITY: [None if p is None else float(p) for p in probabilities],
            LABEL: list(labels)}


def captured_columns(records: Sequence[Captured]) -> dict[str, Column]:
    """The feature columns of every review of the captured invocations."""
    verdicts = [verdict for record in records for verdict in record.verdicts]
    return feature_columns([review for record in records for review in record.reviews],
                           [v.probability for v in verdicts], [v.label for v in verdicts])
