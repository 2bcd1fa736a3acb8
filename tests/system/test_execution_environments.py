"""The gateway's Lambda execution environments as real worker processes: events reach the function
and answers come back, REPORT lines (Init Duration on cold starts only), 429 once every environment
is busy and the queue is full (answered at once), a hung environment (504) or a killed one (502)
replaced by a fresh one, each environment's kept-alive connection to the endpoint, and
``serve --concurrency`` end to end. The gateway runs under uvicorn in this process, calling a real
endpoint or one whose answers wait at a gate the test opens. (The pool's scheduling without
processes: tests/unit/test_execution_environments.py.)"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sentiment_app.artifacts.locate import bundled_model_dir
from sentiment_app.gateway.api import local_api
from sentiment_app.gateway.api.local_stack import ENDPOINT_URL_ENV
from sentiment_app.gateway.runtime.environments import RUNTIME_MODULE
from sentiment_app.gateway.runtime.telemetry import FUNCTION_LOGGER, PLATFORM_LOGGER
from sentiment_app.serving.app import create_app as endpoint_app
from tests.serving_support import in_flight, served_app
from tests.support import NEGATIVE, POSITIVE, running, wait_for

NAME = "environments-test"
REPORT = re.compile(r"REPORT RequestId: (\S+)\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
                    r"Memory Size: 256 MB\tMax Memory Used: \d+ MB(\tInit Duration: \d+\.\d\d ms)?")
WAIT_S = 60


class GatedEndpoint:
    """An endpoint whose answers wait until the gate is open, counting the invocations that arrive."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.gate.set()
        self.arrived = 0

    async def invocations(self, request: Request) -> JSONResponse:
        await request.body()
        self.arrived += 1
        while not self.gate.is_set():
            await asyncio.sleep(0.01)
        return JSONResponse({"label": "positive", "probability": 0.9, "model_version": "gated"})

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/endpoints/{name}/invocations", self.invocations, methods=["POST"])])


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with running(endpoint_app(bundled_model_dir(), endpoint_name=NAME)) as url:
        yield url


@pytest.fixture()
def gated() -> Iterator[tuple[GatedEndpoint, str]]:
    fake = GatedEndpoint()
    with running(fake.app()) as url:
        yield fake, url
        fake.gate.set()  # nothing stays blocked behind the test


def point_function_at(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """What ``serve`` sets for the function; environments started afterwards inherit it."""
    for name, value in {"ENDPOINT_NAME": NAME, ENDPOINT_URL_ENV: url, "AWS_ACCESS_KEY_ID": "local",
                        "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CORS_ALLOW_ORIGIN", raising=False)


def environments(parent: psutil.Process | None = None) -> list[psutil.Process]:
    """The execution environments running under ``parent`` (this process by default)."""
    parent = parent or psutil.Process()
    return [child for child in parent.children() if RUNTIME_MODULE in " ".join(child.cmdline())]


def post(url: str, review: str = POSITIVE) -> httpx.Response:
    return httpx.post(f"{url}/api/sentiment", content=review, headers={"Content-Type": "text/plain"}, timeout=WAIT_S)


def test_events_reach_the_function_and_every_invocation_is_reported(
        endpoint: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    point_function_at(monkeypatch, endpoint)
    reviews = [POSITIVE, NEGATIVE] * 4
    with running(local_api.create_app(concurrency=2)) as url, ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(lambda review: post(url, review), reviews))
        started = {process.pid for process in environments()}
    assert [reply.status_code for reply in replies] == [200] * len(reviews)
    assert [reply.json()["label"] for reply in replies] == ["positive", "negative"] * 4
    assert 1 <= len(started) <= 2 and not environments()  # the environments end with the app
    reports = [REPORT.fullmatch(r.getMessage()) for r in caplog.records if r.name == PLATFORM_LOGGER and r.getMessage().startswith("REPORT")]
    assert all(reports) and len(reports) == len(reviews)
    assert {report.group(1) for report in reports} == {reply.headers["x-amzn-requestid"] for reply in replies}
    assert sum(report.group(2) is not None for report in reports) == len(started)  # one cold start each
    function_lines = [r.getMessage() for r in caplog.records if r.name == FUNCTION_LOGGER]
    assert len(function_lines) == len(reviews)  # the function's own log comes back with each answer


def test_throttled_at_once_when_every_environment_is_busy_and_the_queue_is_full(
        gated: tuple[GatedEndpoint, str], monkeypatch: pytest.MonkeyPatch) -> None:
    fake, endpoint = gated
    point_function_at(monkeypatch, endpoint)
    with running(local_api.create_app(concurrency=1, queue_limit=1)) as url, ThreadPoolExecutor(2) as pool:
        assert post(url).status_code == 200  # the one environment is started and warm
        fake.gate.clear()
        running_one = pool.submit(post, url)
        wait_for(lambda: fake.arrived == 2, WAIT_S, "the first event at the endpoint")
        queued = pool.submit(post, url)
        wait_for(lambda: in_flight(url) == 3, WAIT_S, "the second event in the queue")  # two, and the scrape
        throttled = post(url)
        assert throttled.status_code == 429 and throttled.json() == {"message": "Too Many Requests"}
        assert throttled.headers["access-control-allow-origin"] == "*"
        assert not running_one.done() and not queued.done()  # answered while the others still wait
        fake.gate.set()
        assert running_one.result(WAIT_S).status_code == 200 and queued.result(WAIT_S).status_code == 200
    assert fake.arrived == 3


def test_a_hung_environment_is_answered_504_and_replaced(gated: tuple[GatedEndpoint, str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    fake, endpoint = gated
    point_function_at(monkeypatch, endpoint)
    with running(local_api.create_app(concurrency=1, timeout_s=5)) as url:
        assert post(url).status_code == 200
        [hung] = environments()
        fake.gate.clear()
        reply = post(url)
        assert reply.status_code == 504 and reply.json() == {"message": "Endpoint request timed out"}
        wait_for(lambda: not hung.is_running(), WAIT_S, "the hung environment to be ended")
        fake.gate.set()
        assert post(url).status_code == 200
        assert [process.pid for process in environments()] != [hung.pid]


def test_a_killed_environment_fails_its_event_with_502_and_is_replaced(
        gated: tuple[GatedEndpoint, str], monkeypatch: pytest.MonkeyPatch) -> None:
    fake, endpoint = gated
    point_function_at(monkeypatch, endpoint)
    with running(local_api.create_app(concurrency=1)) as url, ThreadPoolExecutor(1) as pool:
        assert post(url).status_code == 200
        [victim] = environments()
        fake.gate.clear()
        in_progress = pool.submit(post, url)
        wait_for(lambda: fake.arrived == 2, WAIT_S, "the event at the endpoint")
        victim.kill()
        reply = in_progress.result(WAIT_S)
        assert reply.status_code == 502 and reply.json() == {"message": "Internal server error"}
        fake.gate.set()
        assert post(url).status_code == 200
        [fresh] = environments()
        assert fresh.pid != victim.pid


def test_an_environment_keeps_one_connection_to_the_endpoint(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    point_function_at(monkeypatch, endpoint)
    port = int(endpoint.rsplit(":", 1)[1])
    with running(local_api.create_app(concurrency=1)) as url:
        for _ in range(10):
            assert post(url).status_code == 200
        [environment] = environments()
        to_endpoint = [c for c in environment.net_connections("tcp")
                       if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED]
        assert len(to_endpoint) == 1  # boto3's kept-alive connection, reused by every invocation


def test_serve_concurrency_runs_that_many_environments(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    with served_app(tmp_path / "home", "--concurrency", "1", log=log) as app, ThreadPoolExecutor(6) as pool:
        replies = list(pool.map(lambda review: post(app.url, review), [POSITIVE, NEGATIVE] * 3))
        assert [reply.status_code for reply in replies] == [200] * 6
        assert len(environments(psutil.Process(app.process.pid))) == 1
    reports = [REPORT.search(line) for line in log.read_text().splitlines() if "REPORT RequestId" in line]
    assert len(reports) == 6 and all(reports)
    assert sum(report.group(2) is not None for report in reports) == 1
