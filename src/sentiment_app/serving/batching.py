"""Dynamic batching: reviews from concurrent requests are scored together, as TorchServe and BentoML do.

One worker thread makes every model call, so the model never runs twice at once and its torch
threads are not fought over. Requests queue up while a batch runs; the worker then takes what is
waiting, up to ``max_batch_size`` reviews, and (when ``max_wait_ms`` > 0) waits until the oldest of
them has waited that long for more to come. With the default wait of 0 a lone request is scored
at once, and under load batches fill by themselves from the requests that arrived during the
previous batch. A batch whose model call fails is scored again request by request, so one bad
request gets its own error and its batch mates still get their answers.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np

log = logging.getLogger(__name__)

DEFAULT_MAX_BATCH_SIZE = 32
DEFAULT_MAX_WAIT_MS = 0.0

Predict = Callable[[list[str]], np.ndarray]
BatchObserver = Callable[[int], None]


@dataclass(eq=False)
class Job:
    """One request's reviews (at most a batch), the future its caller waits on and when it arrived."""

    texts: list[str]
    future: Future[np.ndarray] = field(default_factory=Future)
    arrived: float = field(default_factory=time.monotonic)


_STOP = Job([])


class Batcher:
    """Queues reviews, scores them in batches on one worker thread and hands each caller its share.

    ``observers`` are called from the worker thread with the number of reviews in every model call
    (e.g. a metrics histogram's ``observe``); an observer that raises is logged and ignored.
    """

    def __init__(self, predict: Predict, max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
                 max_wait_ms: float = DEFAULT_MAX_WAIT_MS) -> None:
        if max_batch_size < 1 or max_wait_ms < 0:
            raise ValueError("max_batch_size must be at least 1 and max_wait_ms at least 0")
        self.predict_fn = predict
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_ms / 1000
        self.observers: list[BatchObserver] = []
        self._queue: queue.SimpleQueue[Job] = queue.SimpleQueue()
        self._carry: Job | None = None  # taken from the queue but too big for the batch it met
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="batcher", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Finish the jobs already queued, then end the worker."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout_s)
            self._thread = None

    def submit(self, texts: Sequence[str]) -> Future[np.ndarray]:
        """Queue at most ``max_batch_size`` reviews; the future gets their probabilities."""
        if not 0 < len(texts) <= self.max_batch_size:
            raise ValueError(f"submit 1 to {self.max_batch_size} reviews, not {len(texts)}")
        if self._thread is None:
            raise RuntimeError("the batcher is not running")
        job = Job(list(texts))
        self._queue.put(job)
        return job.future

    async def predict(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities for any number of reviews, split into batch-sized jobs so that a big
        request (an explanation, 1000 instances) takes turns with the single reviews behind it."""
        size = self.max_batch_size
        if len(texts) <= size:  # the common case, kept lean: one job, no gathering
            return await asyncio.wrap_future(self.submit(texts))
        futures = [asyncio.wrap_future(self.submit(texts[i:i + size])) for i in range(0, len(texts), size)]
        try:
            parts = await asyncio.gather(*futures)
        except BaseException:
            for future in futures:  # a timed-out or failed caller's other jobs need no scoring
                future.cancel()
            raise
        return np.concatenate(parts)

    # -- the worker thread ------------------------------------------------------------------------

    def _next(self, timeout_s: float | None) -> Job | None:
        if self._carry is not None:
            job, self._carry = self._carry, None
            return job
        try:
            return self._queue.get(timeout=timeout_s) if timeout_s is None or timeout_s > 0 else self._queue.get_nowait()
        except queue.Empty:
            return None

    def _collect(self, first: Job) -> tuple[list[Job], bool]:
        """``first`` plus what fits behind it within the wait; also whether a stop was met."""
        jobs, size = [first], len(first.texts)
        deadline = first.arrived + self.max_wait_s
        while size < self.max_batch_size:
            job = self._next(deadline - time.monotonic())
            if job is None:
                break
            if job is _STOP:
                return jobs, True
            if size + len(job.texts) > self.max_batch_size:
                self._carry = job
                break
            jobs.append(job)
            size += len(job.texts)
        return jobs, False

    def _run(self) -> None:
        while True:
            first = self._next(None)
            if first is _STOP:
                return
            jobs, stop = self._collect(first)
            self._score([job for job in jobs if job.future.set_running_or_notify_cancel()])
            if stop:
                self._queue.put(_STOP)  # after any carried job, which _next hands out first

    def _score(self, jobs: list[Job]) -> None:
        if not jobs:
            return
        texts = [text for job in jobs for text in job.texts]
        try:
            probabilities = self._call(texts)
        except Exception as exc:
            if len(jobs) == 1:
                jobs[0].future.set_exception(exc)
            else:  # find the culprit: each job alone gets its own answer or error
                for job in jobs:
                    self._score_alone(job)
            return
        start = 0
        for job in jobs:
            job.future.set_result(probabilities[start:start + len(job.texts)])
            start += len(job.texts)

    def _score_alone(self, job: Job) -> None:
        try:
            job.future.set_result(self._call(job.texts))
        except Exception as exc:
            job.future.set_exception(exc)

    def _call(self, texts: list[str]) -> np.ndarray:
        """One model call, checked, and reported to the observers."""
        probabilities = np.asarray(self.predict_fn(texts))
        if probabilities.shape != (len(texts),):
            raise ValueError(f"the model returned shape {probabilities.shape} for {len(texts)} reviews")
        for observer in self.observers:
            try:
                observer(len(texts))
            except Exception:
                log.exception("Batch observer %r failed", observer)
        return probabilities
