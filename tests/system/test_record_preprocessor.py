"""Model Monitor's record preprocessor (``monitoring/record_preprocessor.py``, run by AWS's analyzer
container, standard library only) gives every captured invocation the same feature rows that
``monitor`` computes here, for real test reviews captured by the endpoint's own capture code in each
request shape the endpoint takes."""

from __future__ import annotations

import json
import uuid
from types import SimpleNamespace
from typing import Any

import pytest

from sentiment_app.artifacts.locate import bundled_model_dir
from sentiment_app.data.dataset import load_imdb
from sentiment_app.inference.handler import input_fn, output_fn, predict_fn
from sentiment_app.inference.model import SentimentModel
from sentiment_app.monitoring.features import captured_columns
from sentiment_app.monitoring.record_preprocessor import preprocess_handler
from sentiment_app.monitoring.traffic import parse_record
from sentiment_app.serving.capture import Event, capture_record

pytestmark = pytest.mark.slow


def inference_record(record: dict[str, Any]) -> SimpleNamespace:
    """The analyzer's view of one capture line: each body with its data, encoding and content type."""
    def part(body: dict[str, Any]) -> SimpleNamespace:
        return SimpleNamespace(data=body["data"], encoding=body["encoding"],
                               observed_content_type=body.get("observedContentType"))
    capture = record["captureData"]
    return SimpleNamespace(endpoint_input=part(capture["endpointInput"]), endpoint_output=part(capture["endpointOutput"]))


def test_every_request_shape_gets_the_monitors_own_rows(real_data) -> None:
    model = SentimentModel.load(bundled_model_dir())
    texts = load_imdb(real_data)["test"].texts
    with_nel = [text for text in texts if "\x85" in text][:3]
    singles = texts[:200:7]
    requests = [(text.encode(), "text/plain", "application/json") for text in singles]
    requests += [
        (json.dumps({"review": texts[1]}).encode(), "application/json", "application/json"),
        (json.dumps({"instances": texts[2:7]}).encode(), "application/json", "application/json"),
        ("\n".join(with_nel + texts[7:9]).encode(), "text/csv", "application/json"),
        ("\n".join(texts[9:12]).encode(), "text/csv", "text/plain"),
        ("<b>Loved</b> it &amp; more: 9/10".encode(), "text/plain", "text/plain"),
    ]
    rows_checked = 0
    for body, content_type, accept in requests:
        answer, media = output_fn(predict_fn(input_fn(body, content_type), model), accept)
        line = json.dumps(capture_record(Event("AllTraffic", body, content_type, answer, media, str(uuid.uuid4()), 0.0)))
        expected = captured_columns([parse_record(line, "AllTraffic")])
        rows = preprocess_handler(inference_record(json.loads(line)))
        rows = rows if isinstance(rows, list) else [rows]
        assert {name: [row[name] for row in rows] for name in expected} == expected
        rows_checked += len(rows)
    assert rows_checked == len(singles) + 1 + 5 + len(with_nel) + 2 + 3 + 1  # one row per review
