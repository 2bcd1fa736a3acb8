"""Fuzzing: no input may get anything but a documented answer, and never a 5xx.

Hypothesis drives the Lambda handler (against a real endpoint) with arbitrary proxy events: bytes,
content types, Accept headers; schemathesis drives the model server and the gateway over real HTTP
from the OpenAPI documents they serve at ``/openapi.json`` (valid and invalid requests alike). The
endpoint and the gateway run in this process (uvicorn on loopback), so no second copy of torch has to
start. Example counts are bounded and derandomized: the same cases every run, and the whole file in
about a minute on a busy machine. (The handler chain and the batch transform, which need no server:
``tests/unit/test_fuzz.py``; the strategies: ``tests.bad_input``.)
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import hypothesis.strategies as st
import pytest
import schemathesis
from hypothesis import given, settings
from schemathesis.checks import not_a_server_error

from sentiment_app.artifacts.locate import bundled_model_dir
from sentiment_app.gateway.api.events import parse_proxy_response
from sentiment_app.gateway.function.lambda_function import lambda_handler
from sentiment_app.gateway.api.local_api import create_app as create_gateway
from sentiment_app.serving.app import create_app as create_endpoint
from tests.bad_input import BODIES, CONTENT_TYPES, FUZZ, JSON_VALUES
from tests.support import running

NAME = "fuzz-sentiment"
API_FUZZ = settings(FUZZ, max_examples=30)


# ---- the Lambda function, against a real endpoint ----

@pytest.fixture(scope="module")
def endpoint_url() -> Iterator[str]:
    with running(create_endpoint(bundled_model_dir(), endpoint_name=NAME)) as url:
        yield url


@pytest.fixture(scope="module")
def lambda_env(endpoint_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {"ENDPOINT_NAME": NAME, "SAGEMAKER_RUNTIME_ENDPOINT_URL": endpoint_url,
                            "FEEDBACK_LOCATION": str(tmp_path_factory.mktemp("feedback")),
                            "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
                            "AWS_DEFAULT_REGION": "us-east-1"}.items():
            patch.setenv(name, value)
        patch.delenv("CORS_ALLOW_ORIGIN", raising=False)
        yield


FEEDBACK_BODIES = st.fixed_dictionaries({
    "inference_id": st.uuids().map(str) | st.text(max_size=40) | JSON_VALUES,
    "label": st.sampled_from(["positive", "negative"]) | JSON_VALUES,
}).map(lambda value: json.dumps(value).encode())


@st.composite
def proxy_events(draw: st.DrawFn) -> dict[str, Any]:
    """REST (1.0) and HTTP API (2.0) proxy events with any method, headers, query and body, for the
    sentiment route or the feedback route."""
    path = draw(st.sampled_from(["/api/sentiment", "/api/feedback"]))
    method = draw(st.sampled_from(["POST"] * 6 + ["OPTIONS", "GET", "post", "", "DELETE"]))
    headers = draw(st.dictionaries(st.sampled_from(["Origin", "X-Api-Key", "Accept", "X-Other"]), st.text(max_size=30),
                                   max_size=3))
    content_type = draw(CONTENT_TYPES)
    if content_type is not None:
        headers["Content-Type"] = content_type
    raw = draw(BODIES | FEEDBACK_BODIES if path == "/api/feedback" else BODIES)
    encoded = draw(st.booleans())
    if encoded:
        body = draw(st.just(base64.b64encode(raw).decode()) | st.text(max_size=20))  # valid base64 or not
    else:
        body = draw(st.none() | st.just(raw.decode("utf-8", "replace")))
    query = draw(st.none() | st.fixed_dictionaries({"explain": st.sampled_from(["true", "1", "false", "yes"])
                                                   | st.text(max_size=5)}))
    if draw(st.booleans()):
        return {"version": "2.0", "rawPath": path, "headers": {k.lower(): v for k, v in headers.items()},
                "body": body, "isBase64Encoded": encoded, "queryStringParameters": query,
                "requestContext": {"requestId": "fuzz", "http": {"method": method}}}
    return {"resource": path, "httpMethod": method, "headers": headers or None, "body": body,
            "isBase64Encoded": encoded, "queryStringParameters": query, "requestContext": {"requestId": "fuzz"}}


@FUZZ
@given(event=proxy_events())
def test_lambda_answers_every_event_with_a_documented_response(lambda_env, event: dict[str, Any]) -> None:
    response = lambda_handler(event, None)
    json.dumps(response)  # Lambda must be able to serialise it
    proxy = parse_proxy_response(response)  # and API Gateway to accept it
    assert proxy.status in (200, 202, 204, 400, 405, 413, 415), proxy
    if proxy.status == 204:
        assert proxy.body == b""
        return
    answer = json.loads(proxy.body)
    if proxy.status == 200:
        verdicts = answer["predictions"] if "predictions" in answer else [answer]  # a batch, or one review
        assert verdicts and all(v["label"] in ("positive", "negative") and 0 <= v["probability"] <= 1
                                for v in verdicts)
    elif proxy.status == 202:  # feedback taken
        assert set(answer) == {"inference_id", "label"} and answer["label"] in ("positive", "negative")
    else:
        assert set(answer) == {"message"} and answer["message"].strip()


# ---- the HTTP APIs from their OpenAPI documents ----

@pytest.fixture(scope="module")
def gateway_url(lambda_env) -> Iterator[str]:
    with running(create_gateway()) as url:
        yield url


@pytest.fixture(scope="module")
def endpoint_api(endpoint_url: str):
    return schemathesis.openapi.from_url(f"{endpoint_url}/openapi.json")


@pytest.fixture(scope="module")
def gateway_api(gateway_url: str):
    return schemathesis.openapi.from_url(f"{gateway_url}/openapi.json")


endpoint_schema = schemathesis.pytest.from_fixture("endpoint_api")
gateway_schema = schemathesis.pytest.from_fixture("gateway_api")


@endpoint_schema.parametrize()
@API_FUZZ
def test_model_server_never_answers_5xx(case) -> None:
    case.call_and_validate(checks=[not_a_server_error], timeout=60)


@gateway_schema.parametrize()
@API_FUZZ
def test_gateway_never_answers_5xx(case) -> None:
    case.call_and_validate(checks=[not_a_server_error], timeout=60)
