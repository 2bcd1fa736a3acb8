"""Model Monitor's record preprocessor for this endpoint's Data Capture.

A SageMaker monitoring schedule runs it (``RecordPreprocessorSourceUri``) on every captured
invocation, so the analyzer sees the columns the baseline's ``statistics.json`` describes:
``review_words``, ``probability`` and ``label``, one row per review. It runs inside AWS's Model
Monitor container, so it uses the standard library only and repeats the two rules it needs (how a
request holds its reviews, what a word is); the tests hold it to ``monitoring.features`` on real
captured traffic. ``inference_record`` is the container's record: ``endpoint_input`` and
``endpoint_output``, each with ``data``, ``encoding`` and ``observed_content_type``.
"""

from __future__ import annotations

import base64
import html
import json
import re
from typing import Any

_TAG = re.compile(r"<[^>]*>")
_WORD = re.compile(r"\w+")
JSON, CSV = "application/json", "text/csv"


def _text(part: Any) -> tuple[str, str]:
    """(media type, text) of a captured body, whichever form the container hands it in."""
    data = part.data
    if isinstance(data, (dict, list)):  # already parsed JSON
        return JSON, json.dumps(data)
    if part.encoding == "BASE64":
        data = base64.b64decode(data).decode("utf-8")
    kind = (part.observed_content_type or "").split(";", 1)[0].strip().lower()
    return kind or (JSON if part.encoding == "JSON" else ""), data


def _reviews(kind: str, text: str) -> list[str]:
    if kind == JSON:
        data = json.loads(text)
        return [data["review"]] if "review" in data else list(data["instances"])
    if kind == CSV:
        return [line.removesuffix("\r") for line in text.rstrip("\r\n").split("\n")]
    return [text]


def _verdicts(kind: str, text: str) -> list[tuple[float | None, str]]:
    if kind != JSON:  # the original's bare 1.0 / 0.0: a label, no probability
        return [(None, "positive" if float(line) >= 0.5 else "negative") for line in text.split()]
    data = json.loads(text)
    return [(item.get("probability"), item["label"]) for item in data.get("predictions", [data])]


def review_words(review: str) -> int:
    """Runs of word characters in the lower-cased review without its HTML tags."""
    end = review.rfind(">") + 1
    return len(_WORD.findall(html.unescape(_TAG.sub("", review[:end]) + review[end:]).lower()))


def preprocess_handler(inference_record: Any, logger: Any = None) -> dict[str, Any] | list[dict[str, Any]]:
    """The invocation's rows: one dict for one review, a list of them for a batch."""
    reviews = _reviews(*_text(inference_record.endpoint_input))
    verdicts = _verdicts(*_text(inference_record.endpoint_output))
    rows = [{"review_words": review_words(review), "probability": probability, "label": label}
            for review, (probability, label) in zip(reviews, verdicts, strict=True)]
    return rows[0] if len(rows) == 1 else rows
