"""Dynamic batching: reviews from concurrent requests are scored together, as TorchServe and BentoML do.

One worker thread makes every model call, so the model never runs twice at once and its torch
threads are not fought over. Requests queue up while a batch runs; the worker then takes what is
waiting, up to ``max_batch_size`` reviews, and (when ``max_wait_ms`` > 0) waits until the oldest of
them has waited that long for more to come. With the default wait of 0 a lone request is scored
at once, and under load batches fill by themselves from the requests that arrived during the
previous batch. A batch whose model call fails is scored again request by request, so one bad
request gets its own error and its batch mates still get their answers. Requests from the event
loop (``predict``) wait on asyncio futures that the worker settles with one loop wake-up per batch;
threads (``submit``) get ``concurrent.futures`` futures.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import dataclass, field

import numpy as np

log = logging.getLogger(__name__)

DEFAULT_MAX_BATCH_SIZE = 32
DEFAULT_MAX_WAIT_MS = 0.0

Predict = Callable[[list[str]], np.ndarray]
BatchObserver = Callable[[int], None]
Outcome = np.ndarray | BaseException  # what a job ends with: its probabilities or the model's error


@dataclass(eq=False)
class Job:
    """One request's reviews (at most a batch), the future its caller waits on and when it arrived.
    With a ``loop`` the future is that loop's asyncio future, else a ``concurrent.futures`` one."""

    texts: list[str]
    future: Future[np.ndarray] | asyncio.Future[np.ndarray] = field(default_factory=Future)
    loop: asyncio.AbstractEventLoop | None = None
    arrived: float = field(default_factory=time.monotonic)

    def claim(self) -> bool:
        """Whether the caller still wants the answer (it may have been cancelled, e.g. timed out)."""
        if self.loop is None:
            return self.future.set_running_or_notify_cancel()  # type: ignore[union-attr]
        return not self.future.cancelled()


_STOP = Job([])


def _settle_all(outcomes: list[tuple[asyncio.Future[np.ndarray], Outcome]]) -> None:
    """On the event loop: hand each waiting coroutine its answer or error."""
    for future, outcome in outcomes:
        if future.done():  # cancelled meanwhile
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)


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

    def _queue_job(self, job: Job) -> None:
        if not 0 < len(job.texts) <= self.max_batch_size:
            raise ValueError(f"submit 1 to {self.max_batch_size} reviews, not {len(job.texts)}")
        if self._thread is None:
            raise RuntimeError("the batcher is not running")
        self._queue.put(job)

    def submit(self, texts: Sequence[str]) -> Future[np.ndarray]:
        """From a thread: queue at most ``max_batch_size`` reviews; the future gets their probabilities."""
        job = Job(list(texts))
        self._queue_job(job)
        return job.future  # type: ignore[return-value]

    async def predict(self, texts: Sequence[str], timeout_s: float | None = None) -> np.ndarray:
        """Probabilities for any number of reviews, split into batch-sized jobs so that a big
        request (an explanation, 1000 instances) takes turns with the single reviews behind it.
        Past ``timeout_s`` it raises ``TimeoutError``; its jobs still queued are then dropped."""
        loop = asyncio.get_running_loop()
        size = self.max_batch_size
        futures: list[asyncio.Future[np.ndarray]] = []
        try:
            for start in range(0, len(texts), size):
                job = Job(list(texts[start:start + size]), loop.create_future(), loop)
                futures.append(job.future)  # type: ignore[arg-type]
                self._queue_job(job)
            if len(futures) == 1:  # the common case, kept lean: one job, no gathering
                return await asyncio.wait_for(futures[0], timeout_s)
            return np.concatenate(await asyncio.wait_for(asyncio.gather(*futures), timeout_s))
        except BaseException:
            for future in futures:  # a timed-out or failed caller's other jobs need no scoring
                future.cancel()
            raise

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
            self._score([job for job in jobs if job.claim()])
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
                self._settle([(jobs[0], exc)])
            else:  # find the culprit: each job alone gets its own answer or error
                self._settle([(job, self._score_alone(job)) for job in jobs])
            return
        outcomes: list[tuple[Job, Outcome]] = []
        start = 0
        for job in jobs:
            outcomes.append((job, probabilities[start:start + len(job.texts)]))
            start += len(job.texts)
        self._settle(outcomes)

    def _score_alone(self, job: Job) -> Outcome:
        try:
            return self._call(job.texts)
        except Exception as exc:
            return exc

    @staticmethod
    def _settle(outcomes: list[tuple[Job, Outcome]]) -> None:
        """Answer thread callers directly and each event loop's callers with one wake-up of that loop."""
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[np.ndarray], Outcome]]] = {}
        for job, outcome in outcomes:
            if job.loop is not None:
                by_loop.setdefault(job.loop, []).append((job.future, outcome))  # type: ignore[arg-type]
            elif isinstance(outcome, BaseException):
                job.future.set_exception(outcome)
            else:
                job.future.set_result(outcome)
        for loop, settled in by_loop.items():
            with suppress(RuntimeError):  # the loop has closed: nobody is waiting any more
                loop.call_soon_threadsafe(_settle_all, settled)

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
