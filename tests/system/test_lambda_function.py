"""The Lambda function with API Gateway REST (1.0) and HTTP API (2.0) events, against a real endpoint
server process speaking the SageMaker Runtime wire format. (Events it answers without calling the
endpoint: ``tests/unit/test_lambda_function.py``.)"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sentiment_app.artifacts.locate import bundled_model_dir
from sentiment_app.gateway.function import lambda_function
from sentiment_app.gateway.function.lambda_function import lambda_handler
from sentiment_app.serving.app import create_app as endpoint_app
from tests.lambda_support import (
    LAMBDA_ENDPOINT, LAMBDA_EVENTS, assert_lambda_error, lambda_http_event, lambda_rest_event, response_header,
    response_json, set_lambda_env,
)
from tests.serving_support import running_endpoint
from tests.support import Event, NEGATIVE, POSITIVE, running


@pytest.fixture(scope="module")
def endpoint_url() -> Iterator[str]:
    with running_endpoint(LAMBDA_ENDPOINT) as url:
        yield url


@pytest.fixture(autouse=True)
def lambda_env(monkeypatch: pytest.MonkeyPatch, endpoint_url: str) -> None:
    """What the function's configuration would set, pointing at the real endpoint."""
    set_lambda_env(monkeypatch, endpoint_url)


@LAMBDA_EVENTS
@pytest.mark.parametrize("review, label", [(POSITIVE, "positive"), (NEGATIVE, "negative")], ids=["pos", "neg"])
def test_text_review(make_event: Callable[..., Event], review: str, label: str) -> None:
    response = lambda_handler(make_event(review), None)
    assert response["statusCode"] == 200 and response["isBase64Encoded"] is False
    answer = response_json(response)
    assert set(answer) == {"label", "probability", "model_version", "inference_id"}
    assert answer["label"] == label
    assert (answer["probability"] >= 0.5) == (label == "positive")
    assert response_header(response, "Access-Control-Allow-Origin") == "*"
    json.dumps(response)  # Lambda must be able to serialise it


def test_each_answer_has_its_own_inference_id_which_the_endpoint_receives(endpoint_url: str) -> None:
    """A fresh uuid4 per request, sent as InvokeEndpoint's InferenceId (the header Data Capture records)."""
    sent: list[str] = []
    events = lambda_function.runtime_client(endpoint_url).meta.events
    hook = lambda request, **_: sent.append(request.headers["X-Amzn-SageMaker-Inference-Id"].decode())  # noqa: E731
    events.register("before-send.sagemaker-runtime.InvokeEndpoint", hook)
    try:
        answers = [response_json(lambda_handler(lambda_rest_event(review), None)) for review in (POSITIVE, POSITIVE)]
        batch = response_json(lambda_handler(lambda_rest_event(json.dumps({"instances": [NEGATIVE, POSITIVE]}),
                                                                "application/json"), None))
    finally:
        events.unregister("before-send.sagemaker-runtime.InvokeEndpoint", hook)
    ids = [answer["inference_id"] for answer in (*answers, batch)]
    assert sent == ids and len(set(ids)) == 3
    assert all(uuid.UUID(inference_id).version == 4 for inference_id in ids)


def test_response_shapes_follow_the_payload_format() -> None:
    rest = lambda_handler(lambda_rest_event(POSITIVE), None)
    http = lambda_handler(lambda_http_event(POSITIVE), None)
    assert "Content-Type" in rest["headers"]
    assert all(name == name.lower() for name in http["headers"])


@LAMBDA_EVENTS
def test_json_review(make_event: Callable[..., Event]) -> None:
    response = lambda_handler(make_event(json.dumps({"review": NEGATIVE}), "application/json"), None)
    assert response_json(response)["label"] == "negative"


@LAMBDA_EVENTS
def test_batch_of_reviews_is_answered_in_order(make_event: Callable[..., Event]) -> None:
    batch = [NEGATIVE, POSITIVE, NEGATIVE]
    response = lambda_handler(make_event(json.dumps({"instances": batch}), "application/json"), None)
    answer = response_json(response)
    assert [p["label"] for p in answer["predictions"]] == ["negative", "positive", "negative"]
    singles = [response_json(lambda_handler(make_event(review), None))["probability"] for review in batch]
    assert [p["probability"] for p in answer["predictions"]] == singles and answer["model_version"]


def test_batch_errors_name_the_review() -> None:
    """Each review of a batch is checked by the endpoint; a blank one refuses the batch, naming it."""
    event = lambda_rest_event(json.dumps({"instances": [POSITIVE, " "]}), "application/json")
    assert_lambda_error(lambda_handler(event, None), 400, "Review 1")
    event = lambda_rest_event(json.dumps({"instances": [POSITIVE]}), "application/json")
    event["queryStringParameters"] = {"explain": "true"}
    assert_lambda_error(lambda_handler(event, None), 400, "one review at a time")


@LAMBDA_EVENTS
def test_base64_body(make_event: Callable[..., Event]) -> None:
    encoded = base64.b64encode(POSITIVE.encode("utf-8")).decode("ascii")
    response = lambda_handler(make_event(encoded, base64_encoded=True), None)
    assert response_json(response)["label"] == "positive"


def test_cors_origin_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGIN", "https://reviews.example.com")
    event = lambda_rest_event(POSITIVE)
    event["headers"]["Origin"] = "https://reviews.example.com"  # only a listed origin is named back
    response = lambda_handler(event, None)
    assert response_header(response, "Access-Control-Allow-Origin") == "https://reviews.example.com"
    assert response_header(response, "Vary") == "Origin"


def test_model_client_error_passes_through() -> None:
    """The container refuses a NUL byte with 400; InvokeEndpoint wraps that in a 424 ModelError."""
    assert_lambda_error(lambda_handler(lambda_rest_event("fine film\x00"), None), 400, "NUL")


def test_the_containers_413_reaches_the_caller_with_its_message(monkeypatch: pytest.MonkeyPatch) -> None:
    """An endpoint whose container takes smaller bodies than the function sends: the model's 413, not a 502."""
    limit = len(json.dumps({"review": POSITIVE}))
    with running(endpoint_app(bundled_model_dir(), endpoint_name=LAMBDA_ENDPOINT, max_payload_bytes=limit)) as url:
        set_lambda_env(monkeypatch, url)
        assert response_json(lambda_handler(lambda_rest_event(POSITIVE), None))["label"] == "positive"
        response = lambda_handler(lambda_rest_event(POSITIVE + " Truly."), None)
    assert_lambda_error(response, 413, f"exceeds the limit of {limit} bytes")


def test_unknown_endpoint_is_502(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENDPOINT_NAME", "no-such-endpoint")
    assert_lambda_error(lambda_handler(lambda_rest_event(POSITIVE), None), 502, "unavailable")


def test_one_structured_log_line_per_request(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger=lambda_function.__name__):
        lambda_handler(lambda_rest_event(POSITIVE), None)
        lambda_handler(lambda_rest_event(None), None)
    records = [json.loads(record.getMessage()) for record in caplog.records if record.name == lambda_function.__name__]
    assert [record["status"] for record in records] == [200, 400]
    assert records[0]["label"] == "positive" and records[0]["request_id"] == "c6af9ac6-0000"
    assert POSITIVE not in caplog.text  # reviews are user data: sizes are logged, never the text


def test_function_can_be_zipped_alone(tmp_path: Path) -> None:
    """Deployable as one file: importing it pulls in neither the package nor torch."""
    (tmp_path / "lambda_function.py").write_bytes(Path(lambda_function.__file__).read_bytes())
    probe = ("import sys, lambda_function; "
             "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('sentiment_app', 'torch', 'numpy')); "
             "print(heavy); assert not heavy and callable(lambda_function.lambda_handler)")
    run = subprocess.run([sys.executable, "-E", "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
