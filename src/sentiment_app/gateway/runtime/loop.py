"""The runtime inside one local execution environment: what Lambda's Python runtime does around a handler.

An environment is a process of its own (``python -m sentiment_app.gateway.runtime FD HANDLER SPAWNED_AT``,
started by :mod:`sentiment_app.gateway.runtime.environments`): it imports the handler's module once (the init
phase, timed from the moment the gateway spawned it), then handles one event at a time, as Lambda
does, for as long as the gateway keeps it. Events come and answers go over the socket ``FD``; each
message is a 4-byte big-endian length and that much JSON. The function's log records during an
invocation travel back with its answer, followed by Lambda's ``REPORT`` line, so the gateway's log
holds them in order; ``Init Duration`` appears only on the first invocation (the cold start).
"""

from __future__ import annotations

import gc
import importlib
import json
import logging
import math
import os
import resource
import signal
import socket
import struct
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any, BinaryIO

from sentiment_app.gateway.api.events import MEMORY_SIZE_MB, LocalContext

HEADER = struct.Struct("!I")  # the length of the JSON that follows
REPORT_LOGGER = "sentiment_app.gateway.runtime"  # the name Lambda's platform lines are logged under
STATUS = "/proc/self/status"
# ru_maxrss counts kibibytes on Linux, bytes on macOS.
MAXRSS_BYTES = 1 if sys.platform == "darwin" else 1024

Handler = Callable[[dict[str, Any], Any], Any]


def encode(message: dict[str, Any]) -> bytes:
    """One message as it travels: length, then compact JSON."""
    data = json.dumps(message, separators=(",", ":")).encode("utf-8")
    return HEADER.pack(len(data)) + data


def receive(stream: BinaryIO) -> dict[str, Any] | None:
    """The next message, or ``None`` once the gateway has closed its end."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (length,) = HEADER.unpack(header)
    data = stream.read(length)
    if len(data) < length:
        return None
    return json.loads(data)


def report_line(request_id: str, duration_ms: float, max_memory_mb: int, init_ms: float | None = None,
                memory_size_mb: int = MEMORY_SIZE_MB) -> str:
    """Lambda's ``REPORT`` line. The billed time is rounded up to the millisecond and, on a cold
    start, includes the init phase, as Lambda bills managed runtimes."""
    billed = math.ceil(duration_ms + (init_ms or 0.0))
    line = (f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\tBilled Duration: {billed} ms\t"
            f"Memory Size: {memory_size_mb} MB\tMax Memory Used: {max_memory_mb} MB")
    return line if init_ms is None else f"{line}\tInit Duration: {init_ms:.2f} ms"


class PeakMemory:
    """The process's peak resident memory in MB. Linux's ``VmHWM`` starts afresh at ``exec``, while
    ``ru_maxrss`` keeps the peak of the gateway process this one was forked from; the status file
    stays open, so each reading is one ``pread``."""

    def __init__(self) -> None:
        try:
            self.status: int | None = os.open(STATUS, os.O_RDONLY)
        except OSError:  # no /proc (macOS)
            self.status = None

    def __call__(self) -> int:
        if self.status is not None:
            text = os.pread(self.status, 4096, 0)
            at = text.find(b"VmHWM:")
            if at >= 0:
                return math.ceil(int(text[at + 6:text.index(b"kB", at)]) / 1024)
        return math.ceil(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * MAXRSS_BYTES / 2**20)


class LogCapture(logging.Handler):
    """Holds the records logged during one invocation until its answer carries them to the gateway."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(message)s"))  # the message, and its traceback if any
        self.records: list[list[Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append([record.name, record.levelno, record.created, self.format(record)])

    def add(self, name: str, level: int, message: str) -> None:
        """A line of the runtime's own (no log record needed)."""
        self.records.append([name, level, time.time(), message])

    def drain(self) -> list[list[Any]]:
        records, self.records = self.records, []
        return records


def load_handler(spec: str) -> Handler:
    """``package.module.function`` (Lambda's ``module.function`` with a dotted module path)."""
    module, _, name = spec.rpartition(".")
    return getattr(importlib.import_module(module), name)


def invoke(handler: Handler, message: dict[str, Any], capture: LogCapture, peak_memory: Callable[[], int],
           init_ms: float | None) -> bytes:
    """Run the handler on one event; the encoded answer: its result, or the error Lambda would return."""
    request_id = message["request_id"]
    context = LocalContext(request_id, timeout_s=message["timeout_s"])
    started = time.perf_counter()
    try:
        answer: dict[str, Any] = {"result": handler(message["event"], context)}
    except Exception as exc:  # the function failed: Lambda answers with the error and logs it
        logging.getLogger(REPORT_LOGGER).exception("[ERROR] %s: %s (request %s)", type(exc).__name__, exc, request_id)
        answer = {"error": {"errorType": type(exc).__name__, "errorMessage": str(exc),
                            "stackTrace": traceback.format_tb(exc.__traceback__)}}
    duration_ms = (time.perf_counter() - started) * 1000
    capture.add(REPORT_LOGGER, logging.INFO, report_line(request_id, duration_ms, peak_memory(), init_ms))
    logs = capture.drain()
    try:
        return encode({**answer, "logs": logs})
    except (TypeError, ValueError) as exc:  # not JSON: what Lambda calls Runtime.MarshalError
        error = {"errorType": "Runtime.MarshalError", "errorMessage": f"Unable to marshal response: {exc}"}
        return encode({"error": error, "logs": logs})


def serve(sock: socket.socket, handler: Handler, init_ms: float) -> None:
    """Answer events one at a time until the gateway closes the socket."""
    capture, peak_memory = LogCapture(), PeakMemory()
    logging.getLogger().addHandler(capture)
    cold: float | None = init_ms
    with sock.makefile("rb") as stream:
        while (message := receive(stream)) is not None:
            sock.sendall(invoke(handler, message, capture, peak_memory, cold))
            if cold is not None:  # what the first event built (clients, their service models) stays:
                gc.freeze()  # kept out of the collector's full passes, which would walk it every time
            cold = None


def main(argv: list[str]) -> None:
    fd, spec, spawned_at = int(argv[0]), argv[1], float(argv[2])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group; the gateway ends us
    sock = socket.socket(fileno=fd)
    handler = load_handler(spec)
    serve(sock, handler, (time.time() - spawned_at) * 1000)


if __name__ == "__main__":
    main(sys.argv[1:])
