"""The Lambda function under test: API Gateway events of both payload formats, the function's
environment and answers, and functions of a test's own run by real execution environments
(awslambdaric processes) through the gateway's pool."""

from __future__ import annotations

import asyncio
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from sentiment_app.gateway.runtime.environments import FunctionConfig, starter
from sentiment_app.gateway.runtime.pool import EnvironmentPool
from tests.support import Event

LAMBDA_ENDPOINT = "test-sentiment"


def lambda_rest_event(body: str | None, content_type: str = "text/plain;charset=UTF-8", method: str = "POST",
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


def lambda_http_event(body: str | None, content_type: str = "text/plain;charset=utf-8", method: str = "POST",
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


LAMBDA_EVENTS = pytest.mark.parametrize("make_event", [lambda_rest_event, lambda_http_event],
                                        ids=["rest-1.0", "http-2.0"])


def set_lambda_env(monkeypatch: pytest.MonkeyPatch, endpoint_url: str) -> None:
    """What the function's configuration would set, with dummy credentials for SigV4 signing."""
    for name, value in {"ENDPOINT_NAME": LAMBDA_ENDPOINT, "SAGEMAKER_RUNTIME_ENDPOINT_URL": endpoint_url,
                        "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CORS_ALLOW_ORIGIN", raising=False)


def response_header(response: Event, name: str) -> str:
    return {key.lower(): value for key, value in response["headers"].items()}[name.lower()]


def response_json(response: Event) -> dict[str, Any]:
    assert response_header(response, "Content-Type") == "application/json"
    return json.loads(response["body"])


def assert_lambda_error(response: Event, status: int, *words: str) -> None:
    """An error the caller can show: the status, a JSON message, CORS so a browser can read it."""
    assert response["statusCode"] == status
    message = response_json(response)["message"]
    assert set(response_json(response)) == {"message"} and "Traceback" not in message
    for word in words:
        assert word in message
    assert response_header(response, "Access-Control-Allow-Origin") == "*"


def probe_function(folder: Path, source: str, handler: str = "probe.handler") -> FunctionConfig:
    """A function whose module ``probe.py`` (``source``) sits at the root of ``folder``, as in a zip."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{handler.split('.')[0]}.py").write_text(textwrap.dedent(source))
    return FunctionConfig(name="probe", handler=handler, memory_size_mb=128, task_root=folder)


def invoke(function: FunctionConfig, events: list[dict[str, Any]], timeout_s: float = 30.0) -> list[Any]:
    """Each event's answer (``{"result"}``/``{"error"}``, or the exception the pool raised), one at a
    time through one environment, which ends with the call."""

    async def run() -> list[Any]:
        pool = EnvironmentPool(starter(function), concurrency=1)
        answers: list[Any] = []
        try:
            for n, event in enumerate(events):
                try:
                    answers.append(await pool.invoke(event, f"req-{n}", timeout_s))
                except Exception as exc:  # the pool's own outcomes: timeout, death
                    answers.append(exc)
        finally:
            await pool.close()
        return answers

    return asyncio.run(run())
