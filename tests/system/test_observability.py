"""Request ids, JSON request logs, ``/metrics`` and health that tells the truth, over real HTTP on loopback:
the model server and the gateway (its Lambda calling the endpoint) under uvicorn, in this process."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from sentiment_app.artifacts.locate import bundled_model_dir
from sentiment_app.gateway.api import local_api
from sentiment_app.gateway.api.local_stack import ENDPOINT_URL_ENV
from sentiment_app.gateway.runtime.telemetry import FUNCTION_LOGGER
from sentiment_app.serving import app as container_app
from sentiment_app.serving.app import create_app
from tests.serving_support import parse_metrics
from tests.support import NEGATIVE, POSITIVE, running

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"
SECRET_KEY = "k3y-" + uuid.uuid4().hex
SECRET_REVIEW = "A secret review that must never reach a log " + uuid.uuid4().hex


def samples(url: str) -> dict[tuple[str, frozenset], float]:
    """``/metrics`` of ``url``, parsed: (sample name, labels) → value."""
    reply = httpx.get(f"{url}/metrics")
    assert reply.status_code == 200 and reply.headers["content-type"] == PROMETHEUS_TEXT
    return parse_metrics(reply.text)


def value(metrics: dict, name: str, **labels: str) -> float:
    return metrics.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with running(create_app(bundled_model_dir(), endpoint_name="observed")) as url:
        yield url


@pytest.fixture()
def gateway(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The gateway app, its in-process Lambda pointed at the endpoint (as ``set_lambda_environment`` does)."""
    for name, setting in {"ENDPOINT_NAME": "observed", ENDPOINT_URL_ENV: endpoint, "AWS_ACCESS_KEY_ID": "local",
                          "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, setting)
    with running(local_api.create_app()) as url:
        yield url


def invoke(url: str, body: str, content_type: str = "text/plain", **headers: str) -> httpx.Response:
    return httpx.post(f"{url}/invocations", content=body.encode(), headers={"content-type": content_type, **headers})


def test_endpoint_metrics_count_requests_errors_latency_and_batch_sizes(endpoint: str) -> None:
    before = samples(endpoint)
    assert invoke(endpoint, POSITIVE).status_code == 200
    assert invoke(endpoint, f"{POSITIVE}\n{NEGATIVE}\n{POSITIVE}\n", "text/csv").status_code == 200
    assert invoke(endpoint, POSITIVE, "application/xml").status_code == 415
    assert httpx.post(f"{endpoint}/endpoints/observed/invocations", content=NEGATIVE,
                      headers={"content-type": "text/plain"}).status_code == 200
    after = samples(endpoint)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    invocations = {"route": "/invocations", "method": "POST", "variant": "AllTraffic"}
    assert delta("http_requests_total", **invocations, status="200") == 2
    assert delta("http_requests_total", **invocations, status="415") == 1
    assert delta("http_requests_total", route="/endpoints/{name}/invocations", method="POST", variant="AllTraffic",
                 status="200") == 1
    assert delta("http_request_errors_total", **invocations, kind="client") == 1
    assert delta("http_request_errors_total", **invocations, kind="server") == 0
    assert delta("http_request_duration_seconds_count", **invocations) == 3
    assert delta("http_request_duration_seconds_sum", **invocations) > 0
    assert delta("model_batch_size_sum") == 1 + 3 + 1  # every review scored, whatever the batching
    assert 1 <= delta("model_batch_size_count") <= 3
    assert value(after, "http_requests_in_flight") == 1  # the scrape itself


def requests_total(metrics: dict) -> float:
    return sum(v for (name, _), v in metrics.items() if name == "http_requests_total")


def test_each_app_keeps_its_own_registry(endpoint: str, gateway: str) -> None:
    for _ in range(2):
        assert invoke(endpoint, POSITIVE).status_code == 200
    assert requests_total(samples(endpoint)) >= 2
    assert requests_total(samples(gateway)) == 0  # a first scrape, counted only once it is answered
    with running(local_api.create_app()) as other:  # a second gateway in this process: no clash, no sharing
        assert requests_total(samples(other)) == 0
    assert requests_total(samples(gateway)) == 1


def test_request_id_is_kept_or_made_and_returned(endpoint: str) -> None:
    mine = invoke(endpoint, POSITIVE, **{"x-request-id": "trace-42.a:b"})
    assert mine.headers["x-request-id"] == mine.headers["x-amzn-requestid"] == "trace-42.a:b"
    amazon = invoke(endpoint, POSITIVE, **{"x-amzn-RequestId": "c0ffee00-0000-4000-8000-000000000001"})
    assert amazon.headers["x-request-id"] == "c0ffee00-0000-4000-8000-000000000001"
    made = [invoke(endpoint, POSITIVE).headers["x-request-id"], httpx.get(f"{endpoint}/ping").headers["x-request-id"]]
    unusable = invoke(endpoint, POSITIVE, **{"x-request-id": "has spaces; and <script>"}).headers["x-request-id"]
    for rid in (*made, unusable):
        assert str(uuid.UUID(rid)) == rid
    assert len({*made, unusable}) == 3


def test_one_json_log_line_per_request_without_bodies_or_keys(gateway: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    reply = httpx.post(f"{gateway}/api/sentiment", json={"review": SECRET_REVIEW},
                       headers={"x-api-key": SECRET_KEY, "x-request-id": "gw-trace-1"})
    assert reply.status_code == 200, reply.text
    assert reply.headers["x-amzn-requestid"] == "gw-trace-1"
    assert httpx.get(f"{gateway}/nowhere?token={SECRET_KEY}").status_code == 403

    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "sentiment_app.requests"]
    api = [line for line in lines if line["request_id"] == "gw-trace-1"]
    assert len(api) == 1
    assert api[0]["method"] == "POST" and api[0]["path"] == "/api/sentiment" and api[0]["status"] == 200
    assert api[0]["route"] == "/api/sentiment" and api[0]["latency_ms"] > 0
    missing = [line for line in lines if line["path"] == "/nowhere"]
    assert len(missing) == 1 and missing[0]["status"] == 403 and missing[0]["route"] == "/*"
    # The Lambda's own line ([INFO], time, request id, its JSON record) carries the gateway's request
    # id, so the two logs join up.
    lambda_lines = [r.getMessage().split("\t") for r in caplog.records if r.name == FUNCTION_LOGGER]
    assert any(line[2] == "gw-trace-1" and json.loads(line[3])["request_id"] == "gw-trace-1" for line in lambda_lines)
    everything = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))  # not the client's
    assert SECRET_KEY not in everything and SECRET_REVIEW not in everything


def test_gateway_metrics_and_readiness(gateway: str, endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert httpx.post(f"{gateway}/api/sentiment", content=POSITIVE).status_code == 200
    metrics = samples(gateway)
    assert value(metrics, "http_requests_total", route="/api/sentiment", method="POST", status="200") == 1
    assert value(metrics, "http_request_duration_seconds_count", route="/api/sentiment", method="POST") == 1

    ready = httpx.get(f"{gateway}/ready")
    assert ready.status_code == 200 and ready.json() == {"status": "ready", "endpoint": endpoint}
    monkeypatch.setenv(ENDPOINT_URL_ENV, "http://127.0.0.1:9")  # the discard port: nothing answers
    down = httpx.get(f"{gateway}/ready")
    assert down.status_code == 503 and "does not answer /ping" in down.json()["message"]
    monkeypatch.delenv(ENDPOINT_URL_ENV)
    assert httpx.get(f"{gateway}/ready").status_code == 503


def test_ping_is_503_while_the_model_loads_then_200(monkeypatch: pytest.MonkeyPatch) -> None:
    """A load held at a gate (the real model_fn behind it): /ping must not say 200 before the model answers."""
    gate, real_model_fn = threading.Event(), container_app.model_fn

    def gated_model_fn(model_dir: str):
        assert gate.wait(30)
        return real_model_fn(model_dir)

    monkeypatch.setattr(container_app, "model_fn", gated_model_fn)
    failures: list[BaseException] = []
    with (running(create_app(bundled_model_dir(), timeout_s=30, on_load_failure=failures.append)) as url,
          ThreadPoolExecutor(1) as pool):
        loading = httpx.get(f"{url}/ping")
        assert loading.status_code == 503 and loading.json() == {"status": "Loading", "message": "The model is loading."}
        early = pool.submit(invoke, url, POSITIVE)  # an invocation meanwhile waits for the model
        time.sleep(0.3)
        assert not early.done() and httpx.get(f"{url}/ping").status_code == 503
        gate.set()
        reply = early.result(30)
        assert reply.status_code == 200 and reply.json()["label"] == "positive"
        assert httpx.get(f"{url}/ping").status_code == 200
    assert failures == []


def test_a_model_that_cannot_load_never_passes_ping(tmp_path: Path) -> None:
    broken = tmp_path / "broken-model"
    broken.mkdir()
    failures: list[BaseException] = []
    with running(create_app(broken, timeout_s=10, on_load_failure=failures.append)) as url:
        reply = invoke(url, POSITIVE)  # waits for the load to settle, then is refused
        assert reply.status_code == 503 and "could not be loaded" in reply.json()["error"]
        ping = httpx.get(f"{url}/ping")
        assert ping.status_code == 503 and ping.json()["status"] == "Failed"
    assert len(failures) == 1
