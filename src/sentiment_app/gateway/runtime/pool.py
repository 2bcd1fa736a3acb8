"""Lambda's concurrency model for the local gateway: a pool of execution environments, each handling
one event at a time.

An event goes to an idle environment; when none is idle and fewer than ``concurrency`` exist, a new
one starts (a cold start, as Lambda scales out); otherwise the event waits in a bounded queue, and
with the queue full the caller is throttled at once, never left hanging. A caller's time limit
covers the wait and the run: an environment still running at the deadline is killed, not reused
(Lambda resets an environment after a timeout), and one that dies fails only the event it held; a
fresh one starts when the next event needs it. Everything runs on the event loop: no thread, no
lock. The environments themselves are made by ``start`` (processes in
:mod:`sentiment_app.gateway.runtime.environments`), so the scheduling here can be tested without any.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

DEFAULT_CONCURRENCY = os.cpu_count() or 1  # the default of serve --concurrency
QUEUE_LIMIT = 128  # events that may wait for an environment before callers get 429
CLOSE_WAIT_S = 5.0
CLOSE_POLL_S = 0.02


class Throttled(Exception):
    """Every environment is busy and the queue is full (API Gateway answers 429)."""


class InvocationTimeout(Exception):
    """No answer before the caller's deadline (API Gateway answers 504)."""


class EnvironmentDied(Exception):
    """The environment running the event exited before answering (API Gateway answers 502)."""


class Environment(Protocol):
    def send(self, message: dict[str, Any]) -> None: ...

    def kill(self, timed_out: bool = False) -> None: ...


OnReply = Callable[[Any, dict[str, Any]], None]
OnExit = Callable[[Any], None]
StartEnvironment = Callable[[OnReply, OnExit], Environment]


@dataclass(eq=False)
class _Job:
    event: dict[str, Any]
    request_id: str
    deadline: float  # on the event loop's clock
    answer: asyncio.Future[dict[str, Any]]
    environment: Environment | None = None


class EnvironmentPool:
    """Up to ``concurrency`` environments made by ``start(on_reply, on_exit)``, and a queue of at most
    ``queue_limit`` events waiting for one."""

    def __init__(self, start: StartEnvironment, concurrency: int = DEFAULT_CONCURRENCY,
                 queue_limit: int = QUEUE_LIMIT) -> None:
        if concurrency < 1 or queue_limit < 0:
            raise ValueError("concurrency must be at least 1 and queue_limit at least 0")
        self.start, self.concurrency, self.queue_limit = start, concurrency, queue_limit
        self.idle: list[Environment] = []
        self.busy: dict[Environment, _Job] = {}
        self.ending: set[Environment] = set()  # killed after a deadline, not gone yet
        self.queue: deque[_Job] = deque()
        self.closed = False

    @property
    def size(self) -> int:
        """Environments alive or starting."""
        return len(self.idle) + len(self.busy)

    async def invoke(self, event: dict[str, Any], request_id: str, timeout_s: float) -> dict[str, Any]:
        """The environment's answer for ``event``: ``{"result": ...}`` or ``{"error": {...}}``."""
        if self.closed:
            raise EnvironmentDied("the gateway is shutting down")
        loop = asyncio.get_running_loop()
        job = _Job(event, request_id, loop.time() + timeout_s, loop.create_future())
        if self.idle:
            self._run(self.idle.pop(), job)  # the most recently used: the warmest
        elif self.size < self.concurrency:
            self._start_for(job)
        elif len(self.queue) < self.queue_limit:
            self.queue.append(job)
        else:
            raise Throttled
        timer = loop.call_at(job.deadline, self._expire, job)
        try:
            return await job.answer
        finally:
            timer.cancel()

    def _start_for(self, job: _Job) -> None:
        """A cold start: a new environment, with ``job`` as its first event."""
        try:
            environment = self.start(self._replied, self._exited)
        except OSError as exc:  # out of processes or file descriptors: this event fails, the pool lives on
            job.answer.set_exception(EnvironmentDied(f"no execution environment could start: {exc}"))
            return
        self._run(environment, job)

    def _run(self, environment: Environment, job: _Job) -> None:
        job.environment = environment
        self.busy[environment] = job
        remaining = max(0.0, job.deadline - asyncio.get_running_loop().time())
        environment.send({"request_id": job.request_id, "timeout_s": remaining, "event": job.event})

    def _next_job(self) -> _Job | None:
        """The oldest queued event whose caller still waits."""
        while self.queue:
            job = self.queue.popleft()
            if not job.answer.done():
                return job
        return None

    def _replied(self, environment: Environment, answer: dict[str, Any]) -> None:
        job = self.busy.pop(environment, None)
        if job is None:  # an answer after the deadline; the environment is on its way out
            return
        if not job.answer.done():
            job.answer.set_result(answer)
        following = self._next_job()
        if following is None:
            self.idle.append(environment)
        else:
            self._run(environment, following)

    def _exited(self, environment: Environment) -> None:
        job = self.busy.pop(environment, None)
        if environment in self.idle:
            self.idle.remove(environment)
        self.ending.discard(environment)
        if job is not None and not job.answer.done():
            job.answer.set_exception(EnvironmentDied("the execution environment exited before it answered"))
        self._scale_out()

    def _expire(self, job: _Job) -> None:
        if job.answer.done():
            return
        if job.environment is None:
            self.queue.remove(job)
        else:
            del self.busy[job.environment]
            self.ending.add(job.environment)
            job.environment.kill(timed_out=True)
        job.answer.set_exception(InvocationTimeout())
        self._scale_out()

    def _scale_out(self) -> None:
        """Start environments for queued events after one went away, so the queue never stalls."""
        while not self.closed and self.size < self.concurrency:
            job = self._next_job()
            if job is None:
                return
            self._start_for(job)

    async def close(self) -> None:
        """Fail what waits, kill every environment and wait (briefly) until they are gone."""
        self.closed = True
        while (job := self._next_job()) is not None:
            job.answer.set_exception(EnvironmentDied("the gateway is shutting down"))
        for environment in [*self.idle, *self.busy]:
            environment.kill()
        deadline = asyncio.get_running_loop().time() + CLOSE_WAIT_S
        while (self.size or self.ending) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(CLOSE_POLL_S)
