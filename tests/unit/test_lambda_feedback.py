"""The Lambda function's feedback route: ``POST .../feedback`` with ``{"inference_id", "label"}``,
stored as one JSON object per answer in a local folder or in S3 (moto), and every bad request refused
with a clear message and nothing written."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest

from sentiment_app.gateway.function import lambda_function
from sentiment_app.gateway.function.lambda_function import lambda_handler
from sentiment_app.gateway.api.local_stack import local_url
from tests.aws_support import REGION
from tests.lambda_support import (
    LAMBDA_EVENTS, assert_lambda_error, lambda_http_event, lambda_rest_event, response_header, response_json,
    set_lambda_env,
)
from tests.support import Event, free_port

JSON = "application/json"


def feedback_event(body: str | None, content_type: str = JSON,
                   make_event: Callable[..., Event] = lambda_rest_event, method: str = "POST") -> Event:
    """A request to the feedback route, as API Gateway names it in each payload format."""
    event = make_event(body, content_type, method=method)
    if event.get("version") == "2.0":
        event.update(rawPath="/prod/api/feedback", routeKey="POST /api/feedback")
    else:
        event.update(resource="/api/feedback", path="/api/feedback")
    return event


def stored(root: Path) -> dict[str, dict]:
    """Every file under ``root`` (hidden ones included: none may be left), by path relative to it."""
    return {str(path.relative_to(root)): json.loads(path.read_text()) for path in root.rglob("*") if path.is_file()}


@pytest.fixture(autouse=True)
def lambda_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The function's configuration with feedback going to a local folder; the endpoint URL is a port
    nothing listens on (the feedback route never calls the endpoint)."""
    set_lambda_env(monkeypatch, local_url("127.0.0.1", free_port()))
    monkeypatch.setenv("FEEDBACK_LOCATION", str(tmp_path / "feedback" / "local-sentiment"))
    return tmp_path / "feedback" / "local-sentiment"


@LAMBDA_EVENTS
def test_feedback_is_stored_by_hour_under_its_inference_id(make_event: Callable[..., Event], lambda_env: Path) -> None:
    inference_id = str(uuid.uuid4())
    before = datetime.now(timezone.utc).replace(microsecond=0)
    response = lambda_handler(feedback_event(json.dumps({"inference_id": inference_id, "label": "negative"}),
                                             make_event=make_event), None)
    assert response["statusCode"] == 202
    assert response_json(response) == {"inference_id": inference_id, "label": "negative"}
    [(key, entry)] = stored(lambda_env).items()
    when = datetime.strptime(entry["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert before <= when <= datetime.now(timezone.utc)
    assert key == f"{when:%Y/%m/%d/%H}/{inference_id}.json"
    assert entry == {"inferenceId": inference_id, "label": "negative", "time": entry["time"]}


def test_inference_id_is_stored_in_its_canonical_spelling(lambda_env: Path) -> None:
    """Any spelling of a UUID names the same answer; the stored one is the one the function handed out."""
    inference_id = uuid.uuid4()
    body = json.dumps({"inference_id": str(inference_id).upper().replace("-", ""), "label": "positive"})
    response = lambda_handler(feedback_event(body, "application/json; charset=utf-8"), None)
    assert response_json(response)["inference_id"] == str(inference_id)
    [entry] = stored(lambda_env).values()
    assert entry["inferenceId"] == str(inference_id)


def test_sentiment_route_is_unchanged(lambda_env: Path) -> None:
    """A feedback body sent to the sentiment route is a review as JSON without ``review``: 400, nothing stored."""
    body = json.dumps({"inference_id": str(uuid.uuid4()), "label": "positive"})
    assert_lambda_error(lambda_handler(lambda_rest_event(body, JSON), None), 400, '{"review"')
    assert not lambda_env.exists()


@pytest.mark.parametrize("body, words", [
    ("{not json", ["not valid JSON", '"inference_id"']),
    ('["a list"]', ['"inference_id"', '"label"']),
    ('{"label": "positive"}', ['"inference_id"']),
    ('{"inference_id": 5, "label": "positive"}', ['"inference_id"']),
    ('{"inference_id": "../../etc/passwd", "label": "positive"}', ["UUID"]),
    (json.dumps({"inference_id": str(uuid.uuid4()), "label": "great"}), ['"positive" or "negative"']),
    (json.dumps({"inference_id": str(uuid.uuid4())}), ['"positive" or "negative"']),
    (json.dumps({"inference_id": str(uuid.uuid4()), "label": 1}), ['"positive" or "negative"']),
    ("[" * 50_000 + "]" * 50_000, ["not valid JSON"]),
])
def test_malformed_feedback_is_400_and_stores_nothing(body: str, words: list[str], lambda_env: Path) -> None:
    assert_lambda_error(lambda_handler(feedback_event(body), None), 400, *words)
    assert not lambda_env.exists()


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_feedback_must_be_json(content_type: str, lambda_env: Path) -> None:
    body = json.dumps({"inference_id": str(uuid.uuid4()), "label": "positive"})
    assert_lambda_error(lambda_handler(feedback_event(body, content_type), None), 415, "content type", '"label"')
    assert not lambda_env.exists()


def test_oversized_feedback_is_413(lambda_env: Path) -> None:
    body = json.dumps({"inference_id": str(uuid.uuid4()), "label": "positive", "pad": "x" * 6 * 1024 * 1024})
    assert_lambda_error(lambda_handler(feedback_event(body), None), 413, "feedback is too long")
    assert not lambda_env.exists()


def test_feedback_without_a_location_is_501(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FEEDBACK_LOCATION")
    body = json.dumps({"inference_id": str(uuid.uuid4()), "label": "positive"})
    assert_lambda_error(lambda_handler(feedback_event(body), None), 501, "not enabled")


def test_unwritable_location_is_500_and_leaves_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("FEEDBACK_LOCATION", str(blocker / "feedback"))
    body = json.dumps({"inference_id": str(uuid.uuid4()), "label": "positive"})
    assert_lambda_error(lambda_handler(feedback_event(body), None), 500, "could not be stored")
    assert [p.name for p in tmp_path.iterdir()] == ["a-file"]


@LAMBDA_EVENTS
def test_feedback_preflight_allows_post(make_event: Callable[..., Event]) -> None:
    response = lambda_handler(feedback_event(None, make_event=make_event, method="OPTIONS"), None)
    assert response["statusCode"] == 204 and "POST" in response_header(response, "Access-Control-Allow-Methods")


def test_feedback_goes_to_s3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An ``s3://bucket/prefix`` location: one object per answer under the prefix (S3 played by moto)."""
    import boto3
    from moto import mock_aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("FEEDBACK_LOCATION", "s3://feedback-bucket/store/feedback/local-sentiment/")
    lambda_function.s3_client.cache_clear()  # a client made outside moto would reach for the real S3
    inference_id = str(uuid.uuid4())
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="feedback-bucket")
        response = lambda_handler(feedback_event(json.dumps({"inference_id": inference_id, "label": "positive"})), None)
        assert response["statusCode"] == 202
        [key] = [o["Key"] for o in s3.list_objects_v2(Bucket="feedback-bucket")["Contents"]]
        entry = json.loads(s3.get_object(Bucket="feedback-bucket", Key=key)["Body"].read())
        assert key.startswith("store/feedback/local-sentiment/") and key.endswith(f"/{inference_id}.json")
        assert entry["inferenceId"] == inference_id and entry["label"] == "positive"
        monkeypatch.setenv("FEEDBACK_LOCATION", "s3://no-such-bucket/feedback/x")
        body = json.dumps({"inference_id": inference_id, "label": "positive"})
        assert_lambda_error(lambda_handler(feedback_event(body), None), 502, "could not be stored")
    lambda_function.s3_client.cache_clear()


def test_http_api_events_route_by_path() -> None:
    """HTTP APIs carry no resource: the raw path (stage prefix and all) picks the route."""
    event = lambda_http_event(json.dumps({"inference_id": str(uuid.uuid4()), "label": "positive"}), JSON)
    assert_lambda_error(lambda_handler(event, None), 400, '{"review"')  # /predict: the sentiment route
