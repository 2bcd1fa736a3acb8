"""One local execution environment: AWS's runtime interface client (``python -m awslambdaric
lambda_function.lambda_handler``) in a child process, and Lambda's platform side of it on the
gateway's event loop: its Runtime API (:mod:`.runtime_api`), its log stream (:mod:`.telemetry`) and
the ``START``/``END``/``REPORT`` lines around each invocation.

The child gets the environment variables Lambda sets (``AWS_LAMBDA_RUNTIME_API``, ``_HANDLER``,
``LAMBDA_TASK_ROOT``, ``AWS_LAMBDA_FUNCTION_NAME`` ...) on top of the gateway's own (which carry the
function's configuration), runs in the folder that holds ``lambda_function.py`` (the zip's root)
and in a session of its own, so a Ctrl-C meant for the gateway does not reach it: the gateway ends
its environments itself. The init phase lasts from the spawn to the runtime's first ``next``; an
environment killed at its event's deadline logs Lambda's ``Task timed out`` line, and one that
exits is reported, reaped, once its process is gone (a pidfd on Linux).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

from sentiment_app.gateway.runtime.runtime_api import RuntimeApiConnection
from sentiment_app.gateway.runtime.telemetry import LogPipe, PeakMemory, platform_line, report_line

RUNTIME_MODULE = "awslambdaric"  # run as python -m, with the handler as its argument
ACCOUNT_ID = "123456789012"
EXIT_POLL_S = 0.05  # where no pidfd tells of the exit


@dataclass(frozen=True)
class FunctionConfig:
    """The deployed function's settings (infra/template.yaml) that the environments reproduce."""

    name: str = "sentiment"
    handler: str = "lambda_function.lambda_handler"
    memory_size_mb: int = 256
    task_root: Path = field(default_factory=lambda: Path(str(resources.files("sentiment_app.gateway.function"))))

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{region()}:{ACCOUNT_ID}:function:{self.name}"

    def environment(self, runtime_api: str, log_fd: int) -> dict[str, str]:
        """What Lambda sets for the runtime, over the gateway's environment (the function's configuration)."""
        return {
            **os.environ,
            "AWS_LAMBDA_RUNTIME_API": runtime_api,
            "_HANDLER": self.handler,
            "LAMBDA_TASK_ROOT": str(self.task_root),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(self.task_root), os.environ.get("PYTHONPATH")])),
            "AWS_EXECUTION_ENV": f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}",
            "AWS_LAMBDA_FUNCTION_NAME": self.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory_size_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"{datetime.now(timezone.utc):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": region(),
            "AWS_DEFAULT_REGION": region(),
            "TZ": ":UTC",
            "_LAMBDA_TELEMETRY_LOG_FD": str(log_fd),
        }


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def trace_id() -> str:
    """An X-Ray trace header, as Lambda passes one with every event (an id, not a secret)."""
    return f"Root=1-{int(time.time()):08x}-{random.getrandbits(96):024x};Parent={random.getrandbits(64):016x};Sampled=0"


@dataclass
class Invocation:
    request_id: str
    sent: float  # when the pool handed the event over (its time limit runs from then)
    started: float = field(default_factory=time.perf_counter)  # when the runtime took it


class ExecutionEnvironment:
    """A runtime process and its platform side, answering one event at a time.

    ``on_reply(environment, answer)`` gets each answer, ``{"result": ...}`` or ``{"error": {...}}``
    (the runtime's error payload); ``on_exit(environment)`` runs once the process is gone (crashed,
    or killed by the gateway) and reaped, so no zombie outlives it."""

    def __init__(self, function: FunctionConfig, on_reply: Callable[[ExecutionEnvironment, dict[str, Any]], None],
                 on_exit: Callable[[ExecutionEnvironment], None]) -> None:
        self.function, self.on_reply, self.on_exit = function, on_reply, on_exit
        self.pending: dict[str, Any] | None = None  # sent by the pool, not yet taken by the runtime
        self.sent = 0.0
        self.waiting: RuntimeApiConnection | None = None  # the runtime's pending ``next``
        self.current: Invocation | None = None  # taken by the runtime, not answered yet
        self.init_ms: float | None = None
        self.reported_init = False
        self.gone = False
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.logs = LogPipe()
        host, port = self.listener.getsockname()[:2]
        self.spawned = time.perf_counter()  # the init phase starts with the process
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", RUNTIME_MODULE, function.handler],
                env=function.environment(f"{host}:{port}", self.logs.write_fd), cwd=function.task_root,
                stdin=subprocess.DEVNULL, pass_fds=[self.logs.write_fd], start_new_session=True,
            )
        except OSError:
            self.listener.close()
            self.logs.close()
            raise
        self.logs.close_write_end()
        self.peak_memory = PeakMemory(self.process.pid)
        loop = asyncio.get_running_loop()
        loop.add_reader(self.logs.read_fd, self.logs.drain)
        self.server: asyncio.AbstractServer | None = None
        serving = asyncio.ensure_future(loop.create_server(lambda: RuntimeApiConnection(self), sock=self.listener))
        serving.add_done_callback(self._serving)
        self._watch_exit(loop)

    # -- the pool's side ----------------------------------------------------------------------------

    def send(self, message: dict[str, Any]) -> None:
        """An event for the runtime: ``{"request_id", "timeout_s", "event"}``."""
        self.pending, self.sent = message, time.perf_counter()
        self._dispatch()

    def kill(self, timed_out: bool = False) -> None:
        """End the process now (a timed-out environment is not reused, as in Lambda)."""
        if self.process.poll() is not None:
            return
        if timed_out and self.current is not None:
            invocation, self.current = self.current, None
            self.logs.drain()
            platform_line(logging.ERROR,
                          f"{invocation.request_id} Task timed out after "
                          f"{time.perf_counter() - invocation.sent:.2f} seconds")
            self._end(invocation, status="timeout")
        self.process.kill()

    # -- the runtime's side (the Runtime API) ------------------------------------------------------

    def next_invocation(self, connection: RuntimeApiConnection) -> None:
        if self.init_ms is None:
            self.init_ms = (time.perf_counter() - self.spawned) * 1000
        self.waiting = connection
        self._dispatch()

    def invocation_done(self, request_id: str, outcome: str, body: bytes) -> int:
        invocation = self.current
        if invocation is None or invocation.request_id != request_id:
            return 400
        self.current = None
        try:
            value = json.loads(body)
        except ValueError:
            value = {"errorType": "Runtime.InvalidResponse", "errorMessage": body[:200].decode("utf-8", "replace")}
            outcome = "error"
        self.logs.drain()  # the function's lines before the platform's
        self._end(invocation, status="" if outcome == "response" else "error")
        self.on_reply(self, {"result": value} if outcome == "response" else {"error": value})
        return 202

    def init_failed(self, body: bytes) -> None:
        self.logs.drain()
        try:
            error_type = json.loads(body).get("errorType") or "Runtime.Unknown"
        except (ValueError, AttributeError):
            error_type = "Runtime.Unknown"
        init_ms = (time.perf_counter() - self.spawned) * 1000
        platform_line(logging.ERROR, f"INIT_REPORT Init Duration: {init_ms:.2f} ms\tPhase: init\tStatus: error\t"
                                     f"Error Type: {error_type}")

    # -- internals ------------------------------------------------------------------------------------

    def _dispatch(self) -> None:
        if self.pending is None or self.waiting is None:
            return
        connection, self.waiting = self.waiting, None
        if not connection.open:
            return  # the runtime went away; its exit fails the event
        message, self.pending = self.pending, None
        request_id = message["request_id"]
        self.current = Invocation(request_id, self.sent)
        left_s = message["timeout_s"] - (self.current.started - self.sent)
        platform_line(logging.INFO, f"START RequestId: {request_id} Version: $LATEST")
        connection.send_event({
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Deadline-Ms": str(int((time.time() + left_s) * 1000)),
            "Lambda-Runtime-Invoked-Function-Arn": self.function.arn,
            "Lambda-Runtime-Trace-Id": trace_id(),
        }, json.dumps(message["event"], separators=(",", ":")).encode("utf-8"))

    def _end(self, invocation: Invocation, status: str = "") -> None:
        """``END`` and ``REPORT``; the first report of an environment carries its init duration."""
        duration_ms = (time.perf_counter() - invocation.started) * 1000
        init_ms = None if self.reported_init else self.init_ms
        self.reported_init = True
        platform_line(logging.INFO, f"END RequestId: {invocation.request_id}")
        platform_line(logging.INFO, report_line(invocation.request_id, duration_ms, self.function.memory_size_mb,
                                                self.peak_memory(), init_ms, status))

    def _serving(self, serving: asyncio.Future[asyncio.AbstractServer]) -> None:
        if serving.cancelled() or serving.exception() is not None:
            self.kill()
        else:
            self.server = serving.result()
            if self.gone:
                self.server.close()

    def _watch_exit(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            pidfd = os.pidfd_open(self.process.pid)
        except (AttributeError, OSError):  # not Linux: poll
            self._poll_exit()
            return

        def exited() -> None:
            loop.remove_reader(pidfd)
            os.close(pidfd)
            self._exited()

        loop.add_reader(pidfd, exited)

    def _poll_exit(self) -> None:
        if self.process.poll() is None:
            asyncio.get_running_loop().call_later(EXIT_POLL_S, self._poll_exit)
        else:
            self._exited()

    def _exited(self) -> None:
        if self.gone:
            return
        self.gone = True
        code = self.process.wait()
        asyncio.get_running_loop().remove_reader(self.logs.read_fd)
        self.logs.drain()
        if self.current is not None:  # it died during an invocation
            invocation, self.current = self.current, None
            cause = f"signal: {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
            platform_line(logging.ERROR, f"RequestId: {invocation.request_id} Error: Runtime exited with error: "
                                         f"{cause}\nRuntime.ExitError")
            self._end(invocation, status="error")
        self.logs.close()
        self.peak_memory.close()
        if self.server is not None:
            self.server.close()
        if self.waiting is not None and self.waiting.transport is not None:
            self.waiting.transport.close()
        self.listener.close()
        self.on_exit(self)


def starter(function: FunctionConfig) -> Callable[..., ExecutionEnvironment]:
    """What the pool calls to start an environment for ``function``."""
    return lambda on_reply, on_exit: ExecutionEnvironment(function, on_reply, on_exit)

