"""The model container over real HTTP: uvicorn on loopback serving the bundled model."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import boto3
import httpx
import psutil
import pytest
from botocore.exceptions import ClientError

from sentiment_app.artifacts.locate import bundled_model_dir
from sentiment_app.inference.handler import model_fn
from sentiment_app.inference.model import SentimentModel
from sentiment_app.serving import app as app_module
from sentiment_app.serving.app import create_app
from sentiment_app.serving.lifecycle import free_port, pings
from tests.serving_support import in_flight, parse_metrics
from tests.support import NEGATIVE, POSITIVE, running

NAME = "sentiment-test"
OVERSIZE = 7 * 1024 * 1024


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with running(create_app(bundled_model_dir(), endpoint_name=NAME)) as base:
        yield base


@pytest.fixture()
def runtime(url: str):
    return boto3.client("sagemaker-runtime", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="x", aws_secret_access_key="x")


def invoke(url: str, body: bytes | str, content_type: str, accept: str = "application/json") -> httpx.Response:
    return httpx.post(f"{url}/invocations", content=body, headers={"Content-Type": content_type, "Accept": accept})


def test_ping(url: str) -> None:
    reply = httpx.get(f"{url}/ping")
    assert reply.status_code == 200 and reply.content == b""


def test_single_review_as_text_and_json(url: str) -> None:
    for body, content_type, expected in [
        (POSITIVE, "text/plain", "positive"),
        (NEGATIVE, "text/plain; charset=utf-8", "negative"),
        (json.dumps({"review": POSITIVE}), "application/json", "positive"),
        (json.dumps({"review": NEGATIVE}), "application/json", "negative"),
    ]:
        reply = invoke(url, body, content_type)
        assert reply.status_code == 200, reply.text
        assert reply.headers["content-type"] == "application/json"
        result = reply.json()
        assert result["label"] == expected
        assert (result["probability"] >= 0.5) == (expected == "positive")
        assert result["model_version"]


@pytest.mark.parametrize("body, content_type", [
    (json.dumps({"instances": [POSITIVE, NEGATIVE]}), "application/json"),
    (f"{POSITIVE}\n{NEGATIVE}\n", "text/csv"),
])
def test_several_reviews(url: str, body: str, content_type: str) -> None:
    reply = invoke(url, body, content_type)
    assert reply.status_code == 200, reply.text
    assert [p["label"] for p in reply.json()["predictions"]] == ["positive", "negative"]


def test_text_plain_accept_gives_the_original_bare_answer(url: str) -> None:
    for review, expected in [(POSITIVE, "1.0"), (NEGATIVE, "0.0")]:
        reply = invoke(url, review, "text/plain", accept="text/plain")
        assert reply.status_code == 200
        assert reply.headers["content-type"] == "text/plain"
        assert reply.text == expected


def test_unsupported_types_are_refused_with_json_errors(url: str) -> None:
    reply = invoke(url, POSITIVE, "application/xml")
    assert reply.status_code == 415
    assert "application/xml" in reply.json()["error"]
    reply = invoke(url, POSITIVE, "text/plain", accept="image/png")
    assert reply.status_code == 406
    assert "image/png" in reply.json()["error"]


def test_oversize_body_is_refused_and_the_server_keeps_serving(url: str) -> None:
    declared = invoke(url, b"a" * OVERSIZE, "text/plain")
    assert declared.status_code == 413
    assert "bytes" in declared.json()["error"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server must count while reading
        for _ in range(OVERSIZE // 65536):
            yield b"a" * 65536

    streamed = httpx.post(f"{url}/invocations", content=chunks(), headers={"Content-Type": "text/plain"})
    assert streamed.status_code == 413
    assert invoke(url, POSITIVE, "text/plain").status_code == 200


def test_sixteen_concurrent_requests_all_succeed(url: str) -> None:
    reviews = [POSITIVE, NEGATIVE] * 8
    with ThreadPoolExecutor(16) as pool:
        replies = list(pool.map(lambda review: invoke(url, review, "text/plain", accept="text/plain"), reviews))
    assert [r.status_code for r in replies] == [200] * 16
    assert [r.text for r in replies] == ["1.0", "0.0"] * 8


class SlowModel:
    """The bundled model, slowed past the endpoint's timeout (a tiny timeout alone races a fast model)."""

    def __init__(self, model: SentimentModel, delay_s: float) -> None:
        self.model, self.delay_s = model, delay_s

    def __getattr__(self, name: str):
        return getattr(self.model, name)

    def predict_proba(self, texts: list[str]):
        time.sleep(self.delay_s)
        return self.model.predict_proba(texts)


def test_slow_prediction_is_answered_504(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_module, "model_fn", lambda model_dir: SlowModel(model_fn(model_dir), 0.5))
    with running(create_app(bundled_model_dir(), timeout_s=0.1)) as base:
        reply = invoke(base, POSITIVE, "text/plain")
        assert reply.status_code == 504
        assert "did not answer" in reply.json()["error"]
        assert httpx.get(f"{base}/ping").status_code == 200


def test_boto3_invoke_endpoint(runtime) -> None:
    reply = runtime.invoke_endpoint(EndpointName=NAME, Body=POSITIVE, ContentType="text/plain",
                                    Accept="application/json", CustomAttributes="trace=abc")
    assert json.loads(reply["Body"].read())["label"] == "positive"
    assert reply["ContentType"] == "application/json"
    assert reply["InvokedProductionVariant"] == "AllTraffic"
    assert reply["CustomAttributes"] == "trace=abc"
    reply = runtime.invoke_endpoint(EndpointName=NAME, Body=NEGATIVE, ContentType="text/plain", Accept="text/plain")
    assert reply["Body"].read() == b"0.0"


def test_boto3_unknown_endpoint_and_oversize_body_are_validation_errors(runtime) -> None:
    with pytest.raises(ClientError) as caught:
        runtime.invoke_endpoint(EndpointName="nope", Body=POSITIVE, ContentType="text/plain")
    error = caught.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("ValidationError", "Endpoint nope of account 123456789012 not found.")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as caught:
        runtime.invoke_endpoint(EndpointName=NAME, Body=b"a" * OVERSIZE, ContentType="text/plain")
    assert caught.value.response["Error"]["Code"] == "ValidationError"


def test_boto3_container_error_is_a_model_error(runtime) -> None:
    with pytest.raises(runtime.exceptions.ModelError) as caught:
        runtime.invoke_endpoint(EndpointName=NAME, Body=POSITIVE, ContentType="application/xml")
    response = caught.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert response["OriginalStatusCode"] == 415
    assert "application/xml" in json.loads(response["OriginalMessage"])["error"]
    assert response["Error"]["Message"].startswith('Received client error (415) from primary with message "')
    assert response["LogStreamArn"].endswith(f"/aws/sagemaker/Endpoints/{NAME}")


def listening_children(pid: int, port: int) -> list[psutil.Process]:
    return [child for child in psutil.Process(pid).children()
            if any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in child.net_connections("tcp"))]


def listening_workers(server: subprocess.Popen, port: int, timeout_s: float = 60) -> list[psutil.Process]:
    """The server's two workers, once both listen (``/ping`` is answered as soon as one does)."""
    deadline = time.monotonic() + timeout_s
    while len(workers := listening_children(server.pid, port)) < 2:
        assert server.poll() is None and time.monotonic() < deadline, workers
        time.sleep(0.2)
    return workers


@contextmanager
def two_worker_server(env: dict[str, str], startups: int = 2) -> Iterator[tuple[subprocess.Popen, int]]:
    """``python -m sentiment_app.serving.server`` with two workers, as the endpoint runs it; stopped
    with SIGTERM, which must end it cleanly after ``startups`` worker starts (one per replacement)."""
    port = free_port("127.0.0.1")
    env = {**os.environ, **env, "SAGEMAKER_BIND_TO_PORT": str(port), "SAGEMAKER_MODEL_SERVER_WORKERS": "2"}
    server = subprocess.Popen([sys.executable, "-m", "sentiment_app.cli.endpoint_server", "--model", str(bundled_model_dir())],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not pings(f"http://127.0.0.1:{port}"):
            assert server.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        yield server, port
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=30)[0].decode()
    assert server.returncode == 0, output
    assert output.count("Application startup complete") == startups, output


def test_server_module_with_sagemaker_environment_and_two_workers() -> None:
    """The stable subprocess interface: env-var defaults, uvicorn factory mode, clean SIGTERM, and
    ``/metrics`` that sums the workers' counts, connections spread over both workers."""
    with two_worker_server({"SAGEMAKER_MAX_PAYLOAD_IN_MB": "0.001"}) as (server, port):
        base = f"http://127.0.0.1:{port}"
        with ThreadPoolExecutor(4) as pool:
            replies = list(pool.map(lambda _: invoke(base, POSITIVE, "text/plain", "text/plain"), range(8)))
        assert [r.text for r in replies] == ["1.0"] * 8
        assert invoke(base, "a" * 2000, "text/plain").status_code == 413  # 0.001 MB from the environment
        for _ in range(4):  # each scrape a new connection, whichever worker takes it: both workers' counts
            scraped = parse_metrics(httpx.get(f"{base}/metrics").text)
            route = {"route": "/invocations", "method": "POST", "variant": "AllTraffic"}
            assert scraped[("http_requests_total", frozenset({**route, "status": "200"}.items()))] == 8
            assert scraped[("http_requests_total", frozenset({**route, "status": "413"}.items()))] == 1
            assert scraped[("model_batch_size_sum", frozenset())] == 8
            assert scraped[("http_requests_in_flight", frozenset())] == 1  # the scrape itself
        # Connections are spread by the kernel, not taken by whichever worker is free: with one
        # worker frozen, the other still gets only its share (a shared socket would give it all 16).
        workers = listening_workers(server, port)
        workers[0].suspend()
        try:
            clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(16)]
            time.sleep(0.5)
        finally:
            workers[0].resume()
        time.sleep(0.5)
        held = [sum(c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port for c in w.net_connections("tcp"))
                for w in workers]
        assert sum(held) == 16 and min(held) > 0, held
        for client in clients:
            client.close()


def test_a_worker_killed_mid_request_is_replaced_and_not_counted_in_flight(tmp_path) -> None:
    """The supervisor restarts a killed worker and drops its live gauge file: the request it died
    holding no longer counts in ``/metrics``'s in-flight figure (it did until the server exited)."""
    with two_worker_server({"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}, startups=3) as (server, port):
        base = f"http://127.0.0.1:{port}"
        old = {w.pid for w in listening_workers(server, port)}
        stuck = socket.create_connection(("127.0.0.1", port))  # headers sent, body never: in flight for good
        stuck.sendall(b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\n")
        deadline = time.monotonic() + 30
        while in_flight(base) != 2:  # the stuck request and the scrape
            assert time.monotonic() < deadline
            time.sleep(0.1)
        client_port = stuck.getsockname()[1]
        [holder] = [w for w in listening_children(server.pid, port)
                    if any(c.raddr and c.raddr.port == client_port for c in w.net_connections("tcp"))]
        holder.kill()
        deadline = time.monotonic() + 60
        while {w.pid for w in listening_children(server.pid, port)} in (old, old - {holder.pid}):
            assert time.monotonic() < deadline, "the killed worker was not replaced"
            time.sleep(0.2)
        assert in_flight(base) == 1
        assert not list(tmp_path.glob(f"gauge_livesum_{holder.pid}.db"))
        stuck.close()
