"""The Lambda function on events it answers without calling the endpoint: empty, malformed and
oversized reviews, preflights, other methods, a missing configuration and an endpoint that is down
(an unused port). (Answers from a real endpoint: ``tests/system/test_lambda_function.py``.)"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable

import pytest
from botocore.stub import Stubber
from hypothesis import given
from hypothesis import strategies as st

from sentiment_app.gateway.function import lambda_function
from sentiment_app.gateway.function.lambda_function import lambda_handler
from sentiment_app.gateway.api.local_stack import local_url
from tests.bad_input import FUZZ
from tests.lambda_support import LAMBDA_EVENTS, assert_lambda_error, lambda_rest_event, response_header, set_lambda_env
from tests.support import Event, POSITIVE, free_port


@pytest.fixture(autouse=True)
def lambda_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The function's configuration, its endpoint URL a port nothing listens on: a test here that
    reached the endpoint would get 503."""
    set_lambda_env(monkeypatch, local_url("127.0.0.1", free_port()))


@LAMBDA_EVENTS
@pytest.mark.parametrize("raw, content_type", [(None, "text/plain"), ("", "text/plain"), (" \n\t ", "text/plain"),
                                               ('{"review": "  "}', "application/json")])
def test_empty_review_is_400(make_event: Callable[..., Event], raw: str | None, content_type: str) -> None:
    assert_lambda_error(lambda_handler(make_event(raw, content_type), None), 400, "empty")


@pytest.mark.parametrize("raw, content_type, base64_encoded, words", [
    ("{not json", "application/json", False, ["JSON"]),
    ('{"text": "good"}', "application/json", False, ['{"review"']),
    ('{"review": 5}', "application/json", False, ['{"review"']),
    ('{"instances": []}', "application/json", False, ["non-empty list of reviews"]),
    ('{"instances": ["A fine film.", 5]}', "application/json", False, ["each a string"]),
    (base64.b64encode(b"\xff\xfe bad bytes").decode(), "text/plain", True, ["UTF-8"]),
    ("!!not base64!!", "text/plain", True, ["base64"]),
    ('{"review": "bad \\ud800 film"}', "application/json", False, ["lone surrogate", "\\ud800", "character 4"]),
    ('{"review": "\\udfff"}', "application/json", False, ["lone surrogate"]),
    ('{"instances": ["A fine film.", "bad \\udc00 film"]}', "application/json", False, ["lone surrogate"]),
    (json.dumps({"instances": ["A fine film."] * 5001}), "application/json", False, ["At most 5000 reviews"]),
])
def test_malformed_requests_are_400(raw: str, content_type: str, base64_encoded: bool, words: list[str]) -> None:
    event = lambda_rest_event(raw, content_type, base64_encoded=base64_encoded)
    assert_lambda_error(lambda_handler(event, None), 400, *words)


def test_review_over_6_mb_is_413() -> None:
    event = lambda_rest_event("good " * (6 * 1024 * 1024 // 5 + 1))
    assert_lambda_error(lambda_handler(event, None), 413, "too long")


@LAMBDA_EVENTS
def test_options_preflight(make_event: Callable[..., Event]) -> None:
    response = lambda_handler(make_event(None, method="OPTIONS"), None)
    assert response["statusCode"] == 204 and response["body"] == ""
    assert response_header(response, "Access-Control-Allow-Origin") == "*"
    assert "POST" in response_header(response, "Access-Control-Allow-Methods")
    assert "Content-Type" in response_header(response, "Access-Control-Allow-Headers")


def test_other_methods_are_405() -> None:
    response = lambda_handler(lambda_rest_event(None, method="GET"), None)
    assert_lambda_error(response, 405, "POST")
    assert "POST" in response_header(response, "Allow")


def test_missing_configuration_is_502(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENDPOINT_NAME")
    assert_lambda_error(lambda_handler(lambda_rest_event(POSITIVE), None), 502, "not configured")


@LAMBDA_EVENTS
def test_endpoint_down_is_503(monkeypatch: pytest.MonkeyPatch, make_event: Callable[..., Event]) -> None:
    monkeypatch.setenv("SAGEMAKER_RUNTIME_ENDPOINT_URL", local_url("127.0.0.1", free_port()))
    assert_lambda_error(lambda_handler(make_event(POSITIVE), None), 503, "cannot be reached")


@pytest.mark.parametrize("original, status", [(400, 400), (413, 413), (415, 415), (404, 502), (500, 502)])
def test_the_containers_refusals_reach_the_caller_and_other_failures_are_502(original: int, status: int) -> None:
    """InvokeEndpoint's ModelError (the AWS side, stubbed) carries the container's status and message:
    its refusals of the request pass on with the model's words; anything else is the service failing."""
    client = lambda_function.runtime_client(os.environ["SAGEMAKER_RUNTIME_ENDPOINT_URL"])
    message = f"refused with {original}"
    with Stubber(client) as stub:
        stub.add_client_error("invoke_endpoint", service_error_code="ModelError", http_status_code=424,
                              service_message=f"Received client error ({original}) from primary",
                              modeled_fields={"OriginalStatusCode": original,
                                              "OriginalMessage": json.dumps({"error": message})})
        response = lambda_handler(lambda_rest_event(POSITIVE), None)
    if status == original:
        assert_lambda_error(response, status, message)
    else:
        assert_lambda_error(response, 502, "failed to answer")


# A text with one lone surrogate between ordinary characters (st.text has none), which JSON's
# ensure_ascii spells as a \\udxxx escape: valid JSON, not Unicode text.
WITH_LONE_SURROGATE = st.tuples(st.text(max_size=20), st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
                                st.text(max_size=20)).map("".join)


@FUZZ
@given(bad=WITH_LONE_SURROGATE, others=st.lists(st.text(min_size=1, max_size=20), max_size=3),
       at=st.integers(min_value=0, max_value=3), batch=st.booleans())
def test_a_lone_surrogate_anywhere_is_400(bad: str, others: list[str], at: int, batch: bool) -> None:
    body = {"instances": [*others[:at], bad, *others[at:]]} if batch else {"review": bad}
    event = lambda_rest_event(json.dumps(body), "application/json")
    assert_lambda_error(lambda_handler(event, None), 400, "lone surrogate")
