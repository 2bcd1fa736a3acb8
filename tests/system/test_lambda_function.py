"""The Lambda function with API Gateway REST (1.0) and HTTP API (2.0) events, against a real endpoint
server process speaking the SageMaker Runtime wire format."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sentiment_app.gateway import lambda_function
from sentiment_app.gateway.lambda_function import lambda_handler
from sentiment_app.gateway.local_stack import local_url
from tests.support import NEGATIVE, POSITIVE, free_port, running_endpoint

ENDPOINT_NAME = "test-sentiment"
Event = dict[str, Any]


def rest_event(body: str | None, content_type: str = "text/plain;charset=UTF-8", method: str = "POST",
               base64_encoded: bool = False) -> Event:
    """Payload format 1.0, as the contract document shows it (client header casing, nulls for empties)."""
    headers = {"Content-Type": content_type, "Origin": "null"}
    return {
        "resource": "/", "path": "/", "httpMethod": method,
        "headers": headers, "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": None, "stageVariables": None,
        "requestContext": {"accountId": "123456789012", "apiId": "a1b2c3", "resourcePath": "/", "httpMethod": method,
                           "path": "/prod/", "stage": "prod", "requestId": "c6af9ac6-0000",
                           "identity": {"sourceIp": "192.0.2.1", "userAgent": "pytest"}},
        "body": body, "isBase64Encoded": base64_encoded,
    }


def http_event(body: str | None, content_type: str = "text/plain;charset=utf-8", method: str = "POST",
               base64_encoded: bool = False) -> Event:
    """Payload format 2.0: lower-case headers, the method under ``requestContext.http``."""
    return {
        "version": "2.0", "routeKey": "POST /predict", "rawPath": "/predict", "rawQueryString": "",
        "headers": {"content-type": content_type, "x-forwarded-for": "192.0.2.1"},
        "requestContext": {"accountId": "123456789012", "apiId": "api-id", "requestId": "id", "stage": "$default",
                           "http": {"method": method, "path": "/predict", "protocol": "HTTP/1.1",
                                    "sourceIp": "192.0.2.1", "userAgent": "pytest"}},
        "body": body, "pathParameters": None, "isBase64Encoded": base64_encoded, "stageVariables": None,
    }


EVENTS = pytest.mark.parametrize("make_event", [rest_event, http_event], ids=["rest-1.0", "http-2.0"])


def header(response: Event, name: str) -> str:
    return {key.lower(): value for key, value in response["headers"].items()}[name.lower()]


def body(response: Event) -> dict[str, Any]:
    assert header(response, "Content-Type") == "application/json"
    return json.loads(response["body"])


def assert_error(response: Event, status: int, *words: str) -> None:
    """An error the caller can show: the status, a JSON message, CORS so a browser can read it."""
    assert response["statusCode"] == status
    message = body(response)["message"]
    assert set(body(response)) == {"message"} and "Traceback" not in message
    for word in words:
        assert word in message
    assert header(response, "Access-Control-Allow-Origin") == "*"


@pytest.fixture(scope="module")
def endpoint_url() -> Iterator[str]:
    with running_endpoint(ENDPOINT_NAME) as url:
        yield url


@pytest.fixture(autouse=True)
def lambda_env(monkeypatch: pytest.MonkeyPatch, endpoint_url: str) -> None:
    """What the function's configuration would set, with dummy credentials for SigV4 signing."""
    for name, value in {"ENDPOINT_NAME": ENDPOINT_NAME, "SAGEMAKER_RUNTIME_ENDPOINT_URL": endpoint_url,
                        "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CORS_ALLOW_ORIGIN", raising=False)


@EVENTS
@pytest.mark.parametrize("review, label", [(POSITIVE, "positive"), (NEGATIVE, "negative")], ids=["pos", "neg"])
def test_text_review(make_event: Callable[..., Event], review: str, label: str) -> None:
    response = lambda_handler(make_event(review), None)
    assert response["statusCode"] == 200 and response["isBase64Encoded"] is False
    answer = body(response)
    assert set(answer) == {"label", "probability", "model_version"}
    assert answer["label"] == label
    assert (answer["probability"] >= 0.5) == (label == "positive")
    assert header(response, "Access-Control-Allow-Origin") == "*"
    json.dumps(response)  # Lambda must be able to serialise it


def test_response_shapes_follow_the_payload_format() -> None:
    rest = lambda_handler(rest_event(POSITIVE), None)
    http = lambda_handler(http_event(POSITIVE), None)
    assert "Content-Type" in rest["headers"]
    assert all(name == name.lower() for name in http["headers"])


@EVENTS
def test_json_review(make_event: Callable[..., Event]) -> None:
    response = lambda_handler(make_event(json.dumps({"review": NEGATIVE}), "application/json"), None)
    assert body(response)["label"] == "negative"


@EVENTS
def test_base64_body(make_event: Callable[..., Event]) -> None:
    encoded = base64.b64encode(POSITIVE.encode("utf-8")).decode("ascii")
    response = lambda_handler(make_event(encoded, base64_encoded=True), None)
    assert body(response)["label"] == "positive"


@EVENTS
@pytest.mark.parametrize("raw, content_type", [(None, "text/plain"), ("", "text/plain"), (" \n\t ", "text/plain"),
                                               ('{"review": "  "}', "application/json")])
def test_empty_review_is_400(make_event: Callable[..., Event], raw: str | None, content_type: str) -> None:
    assert_error(lambda_handler(make_event(raw, content_type), None), 400, "empty")


@pytest.mark.parametrize("raw, content_type, base64_encoded, words", [
    ("{not json", "application/json", False, ["JSON"]),
    ('{"text": "good"}', "application/json", False, ['{"review"']),
    ('{"review": 5}', "application/json", False, ['{"review"']),
    (base64.b64encode(b"\xff\xfe bad bytes").decode(), "text/plain", True, ["UTF-8"]),
    ("!!not base64!!", "text/plain", True, ["base64"]),
])
def test_malformed_requests_are_400(raw: str, content_type: str, base64_encoded: bool, words: list[str]) -> None:
    assert_error(lambda_handler(rest_event(raw, content_type, base64_encoded=base64_encoded), None), 400, *words)


def test_review_over_6_mb_is_413() -> None:
    assert_error(lambda_handler(rest_event("good " * (6 * 1024 * 1024 // 5 + 1)), None), 413, "too long")


@EVENTS
def test_options_preflight(make_event: Callable[..., Event]) -> None:
    response = lambda_handler(make_event(None, method="OPTIONS"), None)
    assert response["statusCode"] == 204 and response["body"] == ""
    assert header(response, "Access-Control-Allow-Origin") == "*"
    assert "POST" in header(response, "Access-Control-Allow-Methods")
    assert "Content-Type" in header(response, "Access-Control-Allow-Headers")


def test_other_methods_are_405() -> None:
    response = lambda_handler(rest_event(None, method="GET"), None)
    assert_error(response, 405, "POST")
    assert "POST" in header(response, "Allow")


def test_cors_origin_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGIN", "https://reviews.example.com")
    event = rest_event(POSITIVE)
    event["headers"]["Origin"] = "https://reviews.example.com"  # only a listed origin is named back
    response = lambda_handler(event, None)
    assert header(response, "Access-Control-Allow-Origin") == "https://reviews.example.com"
    assert header(response, "Vary") == "Origin"


def test_model_client_error_passes_through() -> None:
    """The container refuses a NUL byte with 400; InvokeEndpoint wraps that in a 424 ModelError."""
    assert_error(lambda_handler(rest_event("fine film\x00"), None), 400, "NUL")


def test_unknown_endpoint_is_502(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENDPOINT_NAME", "no-such-endpoint")
    assert_error(lambda_handler(rest_event(POSITIVE), None), 502, "unavailable")


def test_missing_configuration_is_502(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENDPOINT_NAME")
    assert_error(lambda_handler(rest_event(POSITIVE), None), 502, "not configured")


@EVENTS
def test_endpoint_down_is_503(monkeypatch: pytest.MonkeyPatch, make_event: Callable[..., Event]) -> None:
    monkeypatch.setenv("SAGEMAKER_RUNTIME_ENDPOINT_URL", local_url("127.0.0.1", free_port()))
    assert_error(lambda_handler(make_event(POSITIVE), None), 503, "cannot be reached")


def test_one_structured_log_line_per_request(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger=lambda_function.__name__):
        lambda_handler(rest_event(POSITIVE), None)
        lambda_handler(rest_event(None), None)
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
