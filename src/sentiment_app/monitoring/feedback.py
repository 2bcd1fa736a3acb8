"""Feedback read back and joined to the captured reviews by inference id.

The Lambda function stores one ``{"inferenceId", "label", "time"}`` object per answer at
``feedback/<endpoint>/yyyy/mm/dd/hh/<inference id>.json`` in the store; the newest word on an answer
counts. Joined to Data Capture, each feedback names a review and what it really is: the labeled
rows ``train --extra-data`` adds to the training split. Feedback on a batch answer names no single
review and is not joined; feedback whose invocation was not captured (capture samples) has no
review to join.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np

from sentiment_app.data.dataset import Reviews
from sentiment_app.errors import SentimentAppError
from sentiment_app.features.prepare import write_texts
from sentiment_app.gateway.api.local_stack import FEEDBACK_PREFIX
from sentiment_app.monitoring.traffic import LABELS, Captured, parse_time, read_traffic
from sentiment_app.store import ArtifactStore
from sentiment_app.store.objects import local_output


@dataclass(frozen=True)
class Feedback:
    inference_id: str
    label: str  # what the review really is
    time: datetime


@dataclass(frozen=True)
class FeedbackRead:
    entries: dict[str, Feedback]  # by inference id, the newest per answer
    unreadable: int


@dataclass(frozen=True)
class Joined:
    """The reviews with feedback (label 1 positive, 0 negative) and what could not be joined."""

    reviews: Reviews
    feedback: int  # entries considered
    without_capture: int  # feedback on an answer whose invocation was not captured
    batches: int  # feedback on an answer to several reviews
    unreadable: int = 0  # feedback files and capture lines that could not be read


def parse_feedback(data: bytes) -> Feedback:
    entry = json.loads(data)
    if not (isinstance(entry["inferenceId"], str) and entry["label"] in LABELS and isinstance(entry["time"], str)):
        raise ValueError("not a feedback entry")
    return Feedback(entry["inferenceId"], entry["label"], parse_time(entry["time"]))


def read_feedback(store: ArtifactStore, endpoint: str, since: datetime | None = None) -> FeedbackRead:
    """The endpoint's feedback given at or after ``since``, the newest per inference id."""
    entries: dict[str, Feedback] = {}
    unreadable = 0
    for key in store.list(f"{FEEDBACK_PREFIX}/{endpoint}/"):
        if not key.endswith(".json"):
            continue
        try:
            entry = parse_feedback(store.read_bytes(key))
        except (ValueError, KeyError, TypeError, SentimentAppError):  # not JSON, not an entry, no time
            unreadable += 1
            continue
        if since is not None and entry.time < since:
            continue
        known = entries.get(entry.inference_id)
        if known is None or entry.time >= known.time:
            entries[entry.inference_id] = entry
    return FeedbackRead(entries, unreadable)


def join(records: list[Captured], feedback: dict[str, Feedback]) -> Joined:
    """Each feedback with its captured review, in the order the feedback was given."""
    by_id = {record.inference_id: record for record in records}
    rows: list[tuple[str, int]] = []
    without_capture = batches = 0
    for entry in sorted(feedback.values(), key=lambda e: (e.time, e.inference_id)):
        record = by_id.get(entry.inference_id)
        if record is None:
            without_capture += 1
        elif len(record.reviews) != 1:
            batches += 1
        else:
            rows.append((record.reviews[0], LABELS.index(entry.label)))
    reviews = Reviews([text for text, _ in rows], np.array([label for _, label in rows], dtype=np.int64))
    return Joined(reviews, len(feedback), without_capture, batches)


def export_feedback(store: ArtifactStore, endpoint: str, since: datetime | None = None) -> Joined:
    """The endpoint's feedback (given at or after ``since``) joined to every captured review."""
    feedback, traffic = read_feedback(store, endpoint, since), read_traffic(store, endpoint)
    joined = join(traffic.records, feedback.entries)
    return replace(joined, unreadable=feedback.unreadable + traffic.unreadable)


def write_labeled(output: str, reviews: Reviews) -> None:
    """``label,text`` rows, the text channel's form that ``--extra-data`` reads, written whole to a
    local file or an ``s3://`` object."""
    with local_output(output) as path:
        write_texts(path, reviews)
