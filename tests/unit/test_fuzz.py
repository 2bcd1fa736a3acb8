"""Fuzzing without a server: no input may get anything but a documented answer. Hypothesis drives the
handler chain (``input_fn`` → ``predict_fn`` → ``output_fn``) with arbitrary bytes, content types and
Accept headers, and the batch transform with arbitrary lines (strategies: ``tests.bad_input``; the
Lambda function and both servers over HTTP: ``tests/system/test_fuzz.py``)."""

from __future__ import annotations

import json

import hypothesis.strategies as st
import pytest
from hypothesis import example, given, settings

from sentiment_app.artifacts.locate import bundled_model_dir
from sentiment_app.inference.batch_transform import transform_file
from sentiment_app.inference.handler import InferenceError, input_fn, model_fn, output_fn, predict_fn
from tests.bad_input import ACCEPTS, BODIES, CONTENT_TYPES, FUZZ


@pytest.fixture(scope="module")
def model():
    return model_fn(str(bundled_model_dir()))


@FUZZ
@given(body=BODIES, content_type=CONTENT_TYPES, accept=ACCEPTS)
@example(body=b"[" * 5000, content_type="application/json", accept=None)  # deeper than the JSON parser goes
@example(body=b'{"review": "x", "explain": true}', content_type="application/json", accept="text/plain")
@example(body=b'{"review": "!!!", "explain": true}', content_type="application/json", accept=None)  # no words
@example(body="<" * 100_000, content_type="text/plain", accept=None)  # a tag that never closes
def test_handler_chain_answers_or_refuses_with_a_documented_error(model, body: bytes, content_type: str | None,
                                                                   accept: str | None) -> None:
    try:
        reviews = input_fn(body, content_type)
        text, kind = output_fn(predict_fn(reviews, model), accept)
    except InferenceError as exc:
        assert exc.status_code in (400, 406, 415) and exc.message.strip()
        return
    assert kind in ("application/json", "text/plain")
    if kind == "text/plain":
        assert text.split("\n") and set(text.split("\n")) <= {"1.0", "0.0"}
        assert len(text.split("\n")) == len(reviews.texts)
        return
    answer = json.loads(text)
    results = [answer] if reviews.single else answer["predictions"]
    assert len(results) == len(reviews.texts)
    assert all(r["label"] in ("positive", "negative") and 0 <= r["probability"] <= 1 for r in results)


@settings(FUZZ, max_examples=20)
@given(lines=st.lists(st.binary(max_size=60) | st.text(max_size=60).map(str.encode) | BODIES, min_size=1, max_size=8))
def test_batch_transform_gives_one_record_per_line_whatever_the_bytes(model, tmp_path_factory,
                                                                      lines: list[bytes]) -> None:
    folder = tmp_path_factory.mktemp("batch")
    data = b"".join(lines)
    (folder / "in.txt").write_bytes(data)
    errors = transform_file(model, folder / "in.txt", folder / "out.jsonl", batch_size=3)
    records = [json.loads(row) for row in (folder / "out.jsonl").read_text("utf-8").splitlines()]
    assert len(records) == data.count(b"\n") + (bool(data) and not data.endswith(b"\n"))  # lines end at \n only
    broken = [(number, record) for number, record in enumerate(records, 1) if "error" in record]
    assert errors == len(broken) and all(record["line"] == number for number, record in broken)
    assert all(record["label"] in ("positive", "negative") for record in records if "error" not in record)
