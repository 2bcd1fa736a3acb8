"""Dynamic batching: concurrent requests to a real server (uvicorn on loopback, bundled model) share
model calls, within the maximum batch size and wait; one failing request fails alone."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest
from click.testing import CliRunner

from sentiment_app.inference.model import SentimentModel
from sentiment_app.artifacts.locate import bundled_model_dir
from sentiment_app.serving.app import create_app
from sentiment_app.serving.batching import Batcher
from sentiment_app.cli.endpoint_server import main as server_main
from tests.support import NEGATIVE, POSITIVE
from tests.test_serving import running

REVIEWS = [POSITIVE, NEGATIVE, "Funny, charming and heartfelt: a perfect family film.",
           "A boring mess with no plot. I hated it."]
MAX_BATCH = 8
WAIT_MS = 200.0


@pytest.fixture(scope="module")
def model() -> SentimentModel:
    return SentimentModel.load(bundled_model_dir())


@pytest.fixture(scope="module")
def batched() -> Iterator[tuple[str, list[int]]]:
    """A server that waits up to WAIT_MS for batches of at most MAX_BATCH; yields its URL and the
    size of every model call it makes."""
    app = create_app(bundled_model_dir(), max_batch_size=MAX_BATCH, max_batch_wait_ms=WAIT_MS)
    sizes: list[int] = []
    app.state.batcher.observers.append(sizes.append)
    with running(app) as url:
        yield url, sizes


def post(url: str, body: str, content_type: str = "text/plain", client: httpx.Client | None = None) -> httpx.Response:
    """One request; on ``client``'s kept-alive connection when given (timings then leave out setup)."""
    send = client.post if client is not None else httpx.post
    return send(f"{url}/invocations", content=body.encode("utf-8"),
                headers={"Content-Type": content_type, "Accept": "application/json"}, timeout=60)


def test_concurrent_requests_share_batches_of_at_most_the_maximum(batched, model: SentimentModel) -> None:
    url, sizes = batched
    sizes.clear()
    texts = [REVIEWS[i % len(REVIEWS)] for i in range(20)]
    with ThreadPoolExecutor(len(texts)) as pool:
        replies = list(pool.map(lambda text: post(url, text), texts))
    assert all(reply.status_code == 200 for reply in replies), [r.text for r in replies]
    assert sum(sizes) == len(texts), sizes
    assert max(sizes) > 1, f"no batching: {sizes}"
    assert max(sizes) <= MAX_BATCH, sizes
    expected = model.predict_proba(texts)
    got = np.array([reply.json()["probability"] for reply in replies])
    np.testing.assert_allclose(got, expected, atol=1e-5)  # each caller gets its own review's answer


def test_a_big_request_is_split_into_batches_in_order(batched, model: SentimentModel) -> None:
    url, sizes = batched
    sizes.clear()
    texts = [f"{REVIEWS[i % len(REVIEWS)]} Take {i}." for i in range(2 * MAX_BATCH + 3)]
    reply = post(url, "\n".join(texts), "text/csv")
    assert reply.status_code == 200, reply.text
    assert sizes == [MAX_BATCH, MAX_BATCH, 3]
    got = [p["probability"] for p in reply.json()["predictions"]]
    np.testing.assert_allclose(got, model.predict_proba(texts), atol=1e-5)


def test_the_wait_bounds_a_lone_request(batched) -> None:
    url, sizes = batched
    with httpx.Client() as client:
        post(url, POSITIVE, client=client)  # connected
        sizes.clear()
        started = time.perf_counter()
        assert post(url, POSITIVE, client=client).status_code == 200
        elapsed = time.perf_counter() - started
    assert sizes == [1]
    assert WAIT_MS / 1000 <= elapsed < WAIT_MS / 1000 + 2.0, elapsed


def test_invalid_reviews_never_enter_a_batch(batched) -> None:
    url, sizes = batched
    sizes.clear()
    bodies = [(POSITIVE, "text/plain"), ("   ", "text/plain"), (NEGATIVE, "text/plain"),
              ('{"review": 3}', "application/json"), (POSITIVE, "application/x-unknown")]
    with ThreadPoolExecutor(len(bodies)) as pool:
        replies = list(pool.map(lambda item: post(url, *item), bodies))
    assert [reply.status_code for reply in replies] == [200, 400, 200, 400, 415]
    assert all("error" in reply.json() for reply in replies if reply.status_code != 200)
    assert sum(sizes) == 2, sizes


def test_without_a_wait_a_lone_request_is_scored_at_once() -> None:
    app = create_app(bundled_model_dir())  # defaults: no wait
    with running(app) as url, httpx.Client() as client:
        post(url, POSITIVE, client=client)  # warm-up
        started = time.perf_counter()
        for _ in range(5):
            assert post(url, POSITIVE, client=client).status_code == 200
        assert (time.perf_counter() - started) / 5 < WAIT_MS / 1000


def test_a_failing_request_does_not_fail_its_batch_mates(model: SentimentModel) -> None:
    """The model call is made to fail on one review (a fault no real review triggers)."""
    calls: list[int] = []

    def predict(texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        if "POISON" in texts:
            raise RuntimeError("cannot score this one")
        return model.predict_proba(texts)

    batcher = Batcher(predict, max_batch_size=MAX_BATCH, max_wait_ms=WAIT_MS)
    batcher.start()
    try:
        futures = [batcher.submit([text]) for text in (POSITIVE, "POISON", NEGATIVE)]
        with pytest.raises(RuntimeError, match="cannot score"):
            futures[1].result(10)
        assert futures[0].result(10)[0] > 0.5 > futures[2].result(10)[0]
    finally:
        batcher.stop()
    assert calls == [3, 1, 1, 1], calls  # one batch, then each request alone


def test_a_timed_out_caller_leaves_nothing_to_score(model: SentimentModel) -> None:
    """``predict(timeout_s=...)`` from the event loop: past the timeout the caller gets
    ``TimeoutError`` and its job, still queued behind a slow batch, is never scored."""
    busy, release = threading.Event(), threading.Event()
    calls: list[list[str]] = []

    def slow_predict(texts: list[str]) -> np.ndarray:
        calls.append(list(texts))
        busy.set()
        release.wait(10)
        return model.predict_proba(texts)

    batcher = Batcher(slow_predict, max_batch_size=1)
    batcher.start()

    async def scenario() -> np.ndarray:
        first = asyncio.ensure_future(batcher.predict([POSITIVE]))  # keeps the worker busy
        await asyncio.get_running_loop().run_in_executor(None, busy.wait, 10)
        with pytest.raises(TimeoutError):
            await batcher.predict([NEGATIVE], timeout_s=0.05)
        release.set()
        return await first

    try:
        assert asyncio.run(scenario())[0] > 0.5
    finally:
        batcher.stop()
    assert calls == [[POSITIVE]]


def test_observer_errors_do_not_fail_predictions(model: SentimentModel) -> None:
    batcher = Batcher(model.predict_proba)
    seen: list[int] = []
    batcher.observers += [lambda size: 1 / 0, seen.append]
    batcher.start()
    try:
        assert batcher.submit([POSITIVE, NEGATIVE]).result(10).shape == (2,)
    finally:
        batcher.stop()
    assert seen == [2]


def test_stop_finishes_queued_jobs(model: SentimentModel) -> None:
    batcher = Batcher(model.predict_proba, max_batch_size=2)
    batcher.start()
    futures = [batcher.submit([text]) for text in REVIEWS]
    batcher.stop()
    assert all(future.done() and future.result().shape == (1,) for future in futures)


def test_batcher_refuses_what_it_cannot_do(model: SentimentModel) -> None:
    with pytest.raises(ValueError):
        Batcher(model.predict_proba, max_batch_size=0)
    batcher = Batcher(model.predict_proba, max_batch_size=2)
    with pytest.raises(RuntimeError, match="not running"):
        batcher.submit([POSITIVE])
    batcher.start()
    try:
        with pytest.raises(ValueError):
            batcher.submit(REVIEWS)
    finally:
        batcher.stop()


def test_server_options_are_documented_with_their_variables() -> None:
    result = CliRunner().invoke(server_main, ["--help"])
    assert result.exit_code == 0
    for text in ("--max-batch-size", "SENTIMENT_APP_MAX_BATCH_SIZE", "--max-batch-wait-ms",
                 "SENTIMENT_APP_MAX_BATCH_WAIT_MS", "--torch-threads", "SENTIMENT_APP_TORCH_THREADS"):
        assert text in result.output


def test_server_refuses_a_bad_batch_size() -> None:
    result = CliRunner().invoke(server_main, ["--model", str(bundled_model_dir()), "--max-batch-size", "0"])
    assert result.exit_code == 2 and "max-batch-size" in result.output
