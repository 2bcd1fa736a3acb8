"""The local Lambda execution model without processes: the pool's scheduling (idle environments
first, scale out up to the concurrency, a bounded queue, 429, deadlines, deaths) with environments
that answer when the test says so, and the platform's log stream (the runtime's framed log lines,
REPORT) in this process. (The same with real worker processes: tests/system/test_execution_environments.py.)"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from awslambdaric import bootstrap
from cfnlint.decode import decode

from sentiment_app.gateway.function.package import LAMBDA_FILES
from sentiment_app.gateway.runtime import telemetry
from sentiment_app.gateway.runtime.environments import FunctionConfig
from sentiment_app.gateway.runtime.pool import EnvironmentDied, EnvironmentPool, InvocationTimeout, Throttled
from tests.support import INFRA_TEMPLATE

REPORT = re.compile(r"REPORT RequestId: (\S+)\tDuration: \d+\.\d\d ms\tBilled Duration: (\d+) ms\t"
                    r"Memory Size: 256 MB\tMax Memory Used: \d+ MB(\tInit Duration: \d+\.\d\d ms)?")


class FakeEnvironment:
    """Holds each event it is sent until the test answers it, exits or lets the pool kill it."""

    def __init__(self, on_reply: Callable, on_exit: Callable) -> None:
        self.on_reply, self.on_exit = on_reply, on_exit
        self.received: list[dict[str, Any]] = []
        self.killed = self.timed_out = False

    def send(self, message: dict[str, Any]) -> None:
        self.received.append(message)

    def answer(self) -> None:
        message = self.received[-1]
        self.on_reply(self, {"result": {"echo": message["event"], "request_id": message["request_id"]}})

    def kill(self, timed_out: bool = False) -> None:
        self.killed, self.timed_out = True, timed_out
        asyncio.get_running_loop().call_soon(self.exit)

    def exit(self) -> None:
        self.on_exit(self)


class Harness:
    def __init__(self, concurrency: int, queue_limit: int) -> None:
        self.started: list[FakeEnvironment] = []
        self.pool = EnvironmentPool(self.start, concurrency, queue_limit)

    def start(self, on_reply: Callable, on_exit: Callable) -> FakeEnvironment:
        self.started.append(FakeEnvironment(on_reply, on_exit))
        return self.started[-1]

    def invoke(self, n: int, timeout_s: float = 30.0) -> asyncio.Task:
        return asyncio.ensure_future(self.pool.invoke({"n": n}, f"req-{n}", timeout_s))


async def settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(test())


def test_events_reach_an_environment_and_answers_come_back() -> None:
    async def scenario() -> None:
        harness = Harness(concurrency=2, queue_limit=4)
        first = harness.invoke(1)
        await settle()
        [environment] = harness.started
        assert environment.received[0]["event"] == {"n": 1} and environment.received[0]["request_id"] == "req-1"
        assert 0 < environment.received[0]["timeout_s"] <= 30  # what is left of the caller's time
        environment.answer()
        assert await first == {"result": {"echo": {"n": 1}, "request_id": "req-1"}}
        second = harness.invoke(2)  # an idle environment is reused: no second cold start
        await settle()
        environment.answer()
        assert (await second)["result"]["echo"] == {"n": 2} and len(harness.started) == 1

    run(scenario)


def test_scales_out_to_the_concurrency_then_queues_then_throttles() -> None:
    async def scenario() -> None:
        harness = Harness(concurrency=2, queue_limit=1)
        running = [harness.invoke(1), harness.invoke(2)]
        queued = harness.invoke(3)
        throttled = harness.invoke(4)
        await settle()
        assert len(harness.started) == 2  # one environment per event in flight, no more
        with pytest.raises(Throttled):
            await throttled  # at once: nobody answered anything yet
        assert not queued.done()
        harness.started[0].answer()
        await settle()
        assert (await running[0])["result"]["echo"] == {"n": 1}
        assert harness.started[0].received[-1]["event"] == {"n": 3}  # the freed environment takes the queued event
        harness.started[0].answer()
        harness.started[1].answer()
        assert (await queued)["result"]["echo"] == {"n": 3} and (await running[1])["result"]["echo"] == {"n": 2}
        assert len(harness.started) == 2

    run(scenario)


def test_a_deadline_kills_the_running_environment_and_a_fresh_one_serves_next() -> None:
    async def scenario() -> None:
        harness = Harness(concurrency=1, queue_limit=1)
        hung = harness.invoke(1, timeout_s=0.05)
        with pytest.raises(InvocationTimeout):
            await hung
        assert harness.started[0].killed and harness.started[0].timed_out  # it logs Lambda's timeout
        nxt = harness.invoke(2)
        await settle()
        assert len(harness.started) == 2 and harness.started[1].received[0]["event"] == {"n": 2}
        harness.started[1].answer()
        assert (await nxt)["result"]["echo"] == {"n": 2}

    run(scenario)


def test_a_queued_event_past_its_deadline_leaves_the_queue() -> None:
    async def scenario() -> None:
        harness = Harness(concurrency=1, queue_limit=1)
        busy = harness.invoke(1)
        waiting = harness.invoke(2, timeout_s=0.05)
        with pytest.raises(InvocationTimeout):
            await waiting
        assert not harness.started[0].killed  # the running event is not the one that timed out
        later = harness.invoke(3)  # the queue has room again
        harness.started[0].answer()
        await settle()
        assert (await busy)["result"]["echo"] == {"n": 1}
        assert harness.started[0].received[-1]["event"] == {"n": 3}  # the timed-out event never ran
        harness.started[0].answer()
        assert (await later)["result"]["echo"] == {"n": 3}

    run(scenario)


def test_an_environment_that_dies_fails_its_event_and_a_fresh_one_takes_the_queue() -> None:
    async def scenario() -> None:
        harness = Harness(concurrency=1, queue_limit=2)
        doomed, queued = harness.invoke(1), harness.invoke(2)
        await settle()
        harness.started[0].exit()  # crashed, or killed from outside
        with pytest.raises(EnvironmentDied):
            await doomed
        await settle()
        assert len(harness.started) == 2 and harness.started[1].received[0]["event"] == {"n": 2}
        harness.started[1].answer()
        assert (await queued)["result"]["echo"] == {"n": 2}

    run(scenario)


def test_an_environment_that_cannot_start_fails_only_its_event() -> None:
    async def scenario() -> None:
        harness = Harness(concurrency=1, queue_limit=1)

        def exhausted(on_reply: Callable, on_exit: Callable) -> FakeEnvironment:
            raise OSError(24, "Too many open files")

        harness.pool.start = exhausted
        with pytest.raises(EnvironmentDied, match="Too many open files"):
            await harness.invoke(1)
        harness.pool.start = harness.start  # processes can start again
        later = harness.invoke(2)
        await settle()
        harness.started[0].answer()
        assert (await later)["result"]["echo"] == {"n": 2}

    run(scenario)


def test_close_fails_waiting_events_and_kills_every_environment() -> None:
    async def scenario() -> None:
        harness = Harness(concurrency=1, queue_limit=2)
        running, waiting = harness.invoke(1), harness.invoke(2)
        await settle()
        await harness.pool.close()
        assert harness.started[0].killed and harness.pool.size == 0
        for task in (running, waiting):
            with pytest.raises(EnvironmentDied):
                await task
        with pytest.raises(EnvironmentDied):
            await harness.invoke(3)

    run(scenario)


def test_pool_settings_are_checked() -> None:
    with pytest.raises(ValueError):
        EnvironmentPool(lambda on_reply, on_exit: None, concurrency=0)  # type: ignore[arg-type, return-value]


# -- the platform's side: the log stream ------------------------------------------------------------

def test_report_line_bills_whole_milliseconds_and_the_init_phase() -> None:
    assert telemetry.report_line("r", 2.01, 256, 40) == (
        "REPORT RequestId: r\tDuration: 2.01 ms\tBilled Duration: 3 ms\tMemory Size: 256 MB\tMax Memory Used: 40 MB")
    cold = telemetry.report_line("r", 2.0, 256, 40, init_ms=150.5)
    assert REPORT.fullmatch(cold) and "Billed Duration: 153 ms" in cold and cold.endswith("\tInit Duration: 150.50 ms")
    assert telemetry.report_line("r", 3000.0, 256, 40, status="timeout").endswith("\tStatus: timeout")


def test_frames_from_the_runtime_become_records_at_their_level_and_time(caplog: pytest.LogCaptureFixture) -> None:
    """The frames are written by awslambdaric's own telemetry sink, as in an environment."""
    caplog.set_level(logging.DEBUG, logger=telemetry.FUNCTION_LOGGER)
    pipe = telemetry.LogPipe()
    try:
        with bootstrap.FramedTelemetryLogSink(os.dup(pipe.write_fd)) as sink:
            sink.log("[INFO]\t2026-01-01T00:00:00.000Z\treq-1\thandled caf\u00e9\n")
            sink.log_error(["[ERROR] KeyError: 'review'", "Traceback (most recent call last):", "  line 1"])
            sink.log("[WARNING]\t2026-01-01T00:00:00.000Z\treq-1\tslow")
        pipe.drain()
    finally:
        pipe.close()
    assert not pipe.buffer  # every frame consumed
    records = [r for r in caplog.records if r.name == telemetry.FUNCTION_LOGGER]
    assert [r.levelno for r in records] == [logging.INFO, logging.ERROR, logging.WARNING]
    assert records[0].getMessage().endswith("req-1\thandled caf\u00e9")
    assert records[1].getMessage().splitlines()[1] == "Traceback (most recent call last):"  # one record, all lines
    assert all(abs(r.created - time.time()) < 60 for r in records)  # the frame's own time


def test_a_frame_split_across_reads_waits_for_its_end(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=telemetry.FUNCTION_LOGGER)
    pipe = telemetry.LogPipe()
    message = b"[INFO]\tsplit"
    frame = telemetry.FRAME.pack(0xA55A0003, len(message), int(time.time() * 1e6)) + message
    try:
        os.write(pipe.write_fd, frame[:10])
        pipe.drain()
        assert not [r for r in caplog.records if r.name == telemetry.FUNCTION_LOGGER]
        os.write(pipe.write_fd, frame[10:])
        pipe.drain()
    finally:
        pipe.close()
    assert [r.getMessage() for r in caplog.records if r.name == telemetry.FUNCTION_LOGGER] == ["[INFO]\tsplit"]


def test_peak_memory_is_the_process_in_megabytes() -> None:
    peak = telemetry.PeakMemory(os.getpid())
    try:
        assert 1 <= peak() < 64 * 1024
    finally:
        peak.close()


def test_the_environments_run_the_deployed_functions_handler_and_memory_size() -> None:
    """The handler, memory size and zip root the environments use are the template's and the zip's."""
    template, errors = decode(str(INFRA_TEMPLATE))
    assert not errors and template is not None
    deployed, local = template["Resources"]["Function"]["Properties"], FunctionConfig()
    assert (local.handler, local.memory_size_mb) == (deployed["Handler"], deployed["MemorySize"])
    assert all((local.task_root / name).is_file() for name in LAMBDA_FILES)  # the zip's root
