"""Fuzzing: no input may get anything but a documented answer, and never a 5xx.

Hypothesis drives the handler chain (``input_fn`` → ``predict_fn`` → ``output_fn``) and the Lambda
handler with arbitrary bytes, content types, Accept headers and proxy events; schemathesis drives the
model server and the gateway over real HTTP from the OpenAPI documents they serve at
``/openapi.json`` (valid and invalid requests alike). The endpoint and the gateway run in this process
(uvicorn on loopback), so no second copy of torch has to start. Example counts are bounded and
derandomized: the same cases every run, and the whole file in about a minute on a busy machine.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import hypothesis.strategies as st
import pytest
import schemathesis
from hypothesis import HealthCheck, example, given, settings
from schemathesis.checks import not_a_server_error

from sentiment_app.gateway.events import parse_proxy_response
from sentiment_app.gateway.lambda_function import lambda_handler
from sentiment_app.gateway.local_api import create_app as create_gateway
from sentiment_app.inference.batch_transform import transform_file
from sentiment_app.inference.handler import InferenceError, input_fn, model_fn, output_fn, predict_fn
from sentiment_app.artifacts.locate import bundled_model_dir
from sentiment_app.serving.app import create_app as create_endpoint
from tests.support import POSITIVE
from tests.test_serving import running

NAME = "fuzz-sentiment"
FUZZ = settings(max_examples=100, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
API_FUZZ = settings(FUZZ, max_examples=30)

KNOWN_TYPES = ["text/plain", "text/plain; charset=utf-8", "TEXT/PLAIN", "application/json", "text/csv",
               "application/x-www-form-urlencoded", "text/html", "application/xml", "image/png", "*/*", ""]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)
REQUESTS = (
    st.fixed_dictionaries({"review": st.text(max_size=200) | JSON_VALUES},
                          optional={"explain": st.booleans() | JSON_VALUES})
    | st.fixed_dictionaries({"instances": st.lists(st.text(max_size=80) | JSON_VALUES, max_size=5)})
    | JSON_VALUES
)
BODIES = (
    st.binary(max_size=300)
    | st.text(max_size=300).map(str.encode)
    | REQUESTS.map(lambda value: json.dumps(value).encode())
    | st.sampled_from([b"", b" \n\t", b"\x00", b"[" * 5000, POSITIVE.encode(), b"<script>alert(1)</script>"])
)
CONTENT_TYPES = st.none() | st.sampled_from(KNOWN_TYPES) | st.text(max_size=30)
ACCEPTS = st.none() | st.sampled_from(["application/json", "text/plain", "*/*", "image/png", "image/png, text/plain",
                                       "application/*", ""]) | st.text(max_size=30)


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


# ---- the Lambda function, against a real endpoint ----

@pytest.fixture(scope="module")
def endpoint_url() -> Iterator[str]:
    with running(create_endpoint(bundled_model_dir(), endpoint_name=NAME)) as url:
        yield url


@pytest.fixture(scope="module")
def lambda_env(endpoint_url: str) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {"ENDPOINT_NAME": NAME, "SAGEMAKER_RUNTIME_ENDPOINT_URL": endpoint_url,
                            "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
                            "AWS_DEFAULT_REGION": "us-east-1"}.items():
            patch.setenv(name, value)
        patch.delenv("CORS_ALLOW_ORIGIN", raising=False)
        yield


@st.composite
def proxy_events(draw: st.DrawFn) -> dict[str, Any]:
    """REST (1.0) and HTTP API (2.0) proxy events with any method, headers, query and body."""
    method = draw(st.sampled_from(["POST"] * 6 + ["OPTIONS", "GET", "post", "", "DELETE"]))
    headers = draw(st.dictionaries(st.sampled_from(["Origin", "X-Api-Key", "Accept", "X-Other"]), st.text(max_size=30),
                                   max_size=3))
    content_type = draw(CONTENT_TYPES)
    if content_type is not None:
        headers["Content-Type"] = content_type
    raw = draw(BODIES)
    encoded = draw(st.booleans())
    if encoded:
        body = draw(st.just(base64.b64encode(raw).decode()) | st.text(max_size=20))  # valid base64 or not
    else:
        body = draw(st.none() | st.just(raw.decode("utf-8", "replace")))
    query = draw(st.none() | st.fixed_dictionaries({"explain": st.sampled_from(["true", "1", "false", "yes"])
                                                   | st.text(max_size=5)}))
    if draw(st.booleans()):
        return {"version": "2.0", "headers": {k.lower(): v for k, v in headers.items()}, "body": body,
                "isBase64Encoded": encoded, "queryStringParameters": query,
                "requestContext": {"requestId": "fuzz", "http": {"method": method}}}
    return {"httpMethod": method, "headers": headers or None, "body": body, "isBase64Encoded": encoded,
            "queryStringParameters": query, "requestContext": {"requestId": "fuzz"}}


@FUZZ
@given(event=proxy_events())
def test_lambda_answers_every_event_with_a_documented_response(lambda_env, event: dict[str, Any]) -> None:
    response = lambda_handler(event, None)
    json.dumps(response)  # Lambda must be able to serialise it
    proxy = parse_proxy_response(response)  # and API Gateway to accept it
    assert proxy.status in (200, 204, 400, 405, 413, 415), proxy
    if proxy.status == 204:
        assert proxy.body == b""
        return
    answer = json.loads(proxy.body)
    if proxy.status == 200:
        assert answer["label"] in ("positive", "negative") and 0 <= answer["probability"] <= 1
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
