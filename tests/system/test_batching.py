"""Dynamic batching: concurrent requests to a real server (uvicorn on loopback, bundled model) share
model calls, within the maximum batch size and wait. (The batcher alone: ``tests/unit/test_batching.py``.)"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest

from sentiment_app.artifacts.locate import bundled_model_dir
from sentiment_app.inference.model import SentimentModel
from sentiment_app.serving.app import create_app
from tests.support import MIXED_REVIEWS, NEGATIVE, POSITIVE, running

MAX_BATCH = 8
WAIT_MS = 200.0


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
    texts = [MIXED_REVIEWS[i % len(MIXED_REVIEWS)] for i in range(20)]
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
    texts = [f"{MIXED_REVIEWS[i % len(MIXED_REVIEWS)]} Take {i}." for i in range(2 * MAX_BATCH + 3)]
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
