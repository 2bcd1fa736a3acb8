"""Data Capture files read back: the reviews an endpoint was sent and what it answered.

The files are JSON Lines in SageMaker's format under ``datacapture/<endpoint>/<variant>/yyyy/mm/dd/hh/``
in the store. A record's body is decoded by its ``encoding`` (``CSV`` and ``JSON`` as text,
``BASE64`` as bytes) and then read by its content type, as the endpoint read it: a JSON
``{"review"}`` or ``{"instances"}``, ``text/csv`` one review per line, any other type one review.
Answers are JSON verdicts (``label``, ``probability``) or the bare ``1.0``/``0.0`` of
``text/plain``, which carries no confidence. A line that is not such a record is counted, never
fatal: a monitor must not stop at one bad record.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from tqdm import tqdm

from sentiment_app.errors import SentimentAppError
from sentiment_app.inference.handler import CSV, JSON, csv_records, label, media_type
from sentiment_app.serving.capture import PREFIX
from sentiment_app.store import ArtifactStore
from sentiment_app.wire import LABELS

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class Verdict:
    """One answer: its label and, when the answer gave one, the probability of "positive"."""

    label: str
    probability: float | None

    @property
    def confidence(self) -> float | None:
        """The probability of the class given (0.5 to 1)."""
        return None if self.probability is None else max(self.probability, 1 - self.probability)


@dataclass(frozen=True)
class Captured:
    """One captured invocation: its reviews and, aligned with them, the verdicts."""

    inference_id: str
    time: datetime
    variant: str
    reviews: tuple[str, ...]
    verdicts: tuple[Verdict, ...]
    model_version: str | None


@dataclass(frozen=True)
class Traffic:
    records: list[Captured]
    unreadable: int  # lines that were not capture records of reviews and verdicts

    def __len__(self) -> int:
        return len(self.records)


def parse_time(text: str) -> datetime:
    """An ISO 8601 date or time (``Z`` or an offset; none means UTC) as an aware datetime."""
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise SentimentAppError(f"{text!r} is not an ISO 8601 time such as 2026-12-01 or 2026-12-01T16:20:00Z") from exc
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _body(part: dict[str, Any]) -> tuple[str, str]:
    """``(media type, text)`` of an ``endpointInput``/``endpointOutput``."""
    encoding, data = part["encoding"], part["data"]
    if encoding == "BASE64":
        text = base64.b64decode(data, validate=True).decode("utf-8")
    elif encoding in ("CSV", "JSON"):
        text = data
    else:
        raise ValueError(f"unknown encoding {encoding!r}")
    kind = media_type(part.get("observedContentType")) or (JSON if encoding == "JSON" else "")
    return kind, text


def reviews_of(kind: str, text: str) -> list[str]:
    """The reviews of a request body, read as the endpoint's ``input_fn`` reads it."""
    if kind == JSON:
        data = json.loads(text)
        if isinstance(data, dict) and isinstance(data.get("review"), str):
            return [data["review"]]
        if isinstance(data, dict) and isinstance(data.get("instances"), list):
            if all(isinstance(item, str) for item in data["instances"]):
                return data["instances"]
        raise ValueError("JSON input without review or instances")
    if kind == CSV:
        return csv_records(text)
    return [text]


def verdicts_of(kind: str, text: str) -> tuple[list[Verdict], str | None]:
    """The verdicts of an answer body and the model version it names (None when it names none)."""
    if kind != JSON:
        return [Verdict(label(float(line)), None) for line in text.split()], None
    data = json.loads(text)
    items = data["predictions"] if "predictions" in data else [data]
    verdicts = []
    for item in items:
        if item["label"] not in LABELS:
            raise ValueError(f"unknown label {item['label']!r}")
        probability = item.get("probability")
        verdicts.append(Verdict(item["label"], None if probability is None else float(probability)))
    version = data.get("model_version")
    return verdicts, version if isinstance(version, str) else None


def parse_record(line: str, variant: str) -> Captured:
    """One line of a capture file; ValueError, KeyError or TypeError when it is not a usable record."""
    record = json.loads(line)
    capture, meta = record["captureData"], record["eventMetadata"]
    reviews = reviews_of(*_body(capture["endpointInput"]))
    verdicts, version = verdicts_of(*_body(capture["endpointOutput"]))
    if len(verdicts) != len(reviews):
        raise ValueError(f"{len(reviews)} reviews but {len(verdicts)} verdicts")
    when = datetime.strptime(meta["inferenceTime"], TIME_FORMAT).replace(tzinfo=timezone.utc)
    return Captured(str(meta["inferenceId"]), when, variant, tuple(reviews), tuple(verdicts), version)


def capture_keys(store: ArtifactStore, endpoint: str, since: datetime | None = None) -> Iterator[tuple[str, str]]:
    """``(key, variant)`` of the endpoint's capture files, skipping hours that end before ``since``."""
    for key in store.list(f"{PREFIX}/{endpoint}/"):
        parts = key.split("/")
        if not key.endswith(".jsonl") or len(parts) != 8:
            continue
        if since is not None:
            try:
                hour = datetime(*map(int, parts[3:7]), tzinfo=timezone.utc)
            except ValueError:
                continue  # not a yyyy/mm/dd/hh folder: not Data Capture's
            if hour + timedelta(hours=1) <= since:
                continue
        yield key, parts[2]


def read_traffic(store: ArtifactStore, endpoint: str, since: datetime | None = None) -> Traffic:
    """Every captured invocation of ``endpoint`` (at or after ``since``), oldest first."""
    records, unreadable = [], 0
    for key, variant in tqdm(list(capture_keys(store, endpoint, since)), desc="capture files", unit="file"):
        for line in store.read_bytes(key).decode("utf-8", errors="replace").splitlines():
            if not line.strip():
                continue
            try:
                record = parse_record(line, variant)
            except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
                unreadable += 1
                continue
            if since is None or record.time >= since:
                records.append(record)
    return Traffic(sorted(records, key=lambda r: r.time), unreadable)
