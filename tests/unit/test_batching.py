"""The batcher behind dynamic batching, without a server: one failing request fails alone, a timed-out
caller leaves nothing to score, and stopping finishes what is queued. (Over HTTP:
``tests/system/test_batching.py``.)"""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from sentiment_app.inference.model import SentimentModel
from sentiment_app.serving.batching import Batcher
from tests.support import MIXED_REVIEWS, NEGATIVE, POSITIVE

MAX_BATCH = 8
WAIT_MS = 200.0


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
    futures = [batcher.submit([text]) for text in MIXED_REVIEWS]
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
            batcher.submit(MIXED_REVIEWS)
    finally:
        batcher.stop()
