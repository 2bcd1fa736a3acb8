"""What an execution environment writes to its log stream: the function's lines, which the runtime
interface client sends as frames on the telemetry pipe (``_LAMBDA_TELEMETRY_LOG_FD``, as on Lambda),
and the platform's ``START``/``END``/``REPORT`` lines around each invocation.

Both go to the gateway's log as records of their own, each with the time it was written, so the
gateway's log reads like the function's CloudWatch log stream.
"""

from __future__ import annotations

import logging
import math
import os
import re
import struct

import psutil

FRAME = struct.Struct(">IIQ")  # frame type, message length, timestamp in microseconds (awslambdaric's framing)
FUNCTION_LOGGER = "sentiment_app.gateway.runtime.function"  # the function's own lines
PLATFORM_LOGGER = "sentiment_app.gateway.runtime.platform"  # START, END, REPORT and timeouts
LEVEL = re.compile(r"\[([A-Z]+)\]")  # the text log format's leading [INFO], [ERROR] ...
STATUS = "/proc/{pid}/status"
READ_SIZE = 65536

function_log = logging.getLogger(FUNCTION_LOGGER)
platform_log = logging.getLogger(PLATFORM_LOGGER)


def _log(logger: logging.Logger, level: int, message: str, created: float | None = None) -> None:
    """A record made directly: these lines say where they come from, so no caller lookup."""
    if logger.isEnabledFor(level):
        record = logger.makeRecord(logger.name, level, logger.name, 0, message, None, None)
        if created is not None:
            record.created, record.msecs = created, created % 1 * 1000
        logger.handle(record)


def platform_line(level: int, message: str) -> None:
    """A line of the platform's (START, END, REPORT, timeouts, init and exit errors)."""
    _log(platform_log, level, message)


def report_line(request_id: str, duration_ms: float, memory_size_mb: int, max_memory_mb: int,
                init_ms: float | None = None, status: str = "") -> str:
    """Lambda's ``REPORT`` line. The billed time is rounded up to the millisecond and, on a cold
    start, includes the init phase, as Lambda bills managed runtimes."""
    billed = math.ceil(duration_ms + (init_ms or 0.0))
    line = (f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\tBilled Duration: {billed} ms\t"
            f"Memory Size: {memory_size_mb} MB\tMax Memory Used: {max_memory_mb} MB")
    if init_ms is not None:
        line += f"\tInit Duration: {init_ms:.2f} ms"
    return f"{line}\tStatus: {status}" if status else line


class PeakMemory:
    """A process's peak resident memory in MB. Linux's ``VmHWM`` starts afresh at ``exec`` and the
    status file stays open, so each reading is one ``pread``; elsewhere psutil's current RSS."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        try:
            self.status: int | None = os.open(STATUS.format(pid=pid), os.O_RDONLY)
        except OSError:  # no /proc (macOS)
            self.status = None

    def __call__(self) -> int:
        if self.status is not None:
            try:
                text = os.pread(self.status, 4096, 0)
            except OSError:  # the process is gone
                return 0
            at = text.find(b"VmHWM:")
            if at >= 0:
                return math.ceil(int(text[at + 6:text.index(b"kB", at)]) / 1024)
        try:
            return math.ceil(psutil.Process(self.pid).memory_info().rss / 2**20)
        except psutil.Error:
            return 0

    def close(self) -> None:
        if self.status is not None:
            os.close(self.status)
            self.status = None


class LogPipe:
    """The read end of an environment's telemetry pipe; each complete frame becomes a record under
    :data:`FUNCTION_LOGGER`, at the frame's level and time."""

    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.read_fd, False)
        self.buffer = bytearray()

    def drain(self) -> None:
        """Log every frame written so far (called when the pipe is readable, and before the platform's
        lines for an invocation, so the function's lines come first)."""
        while True:
            try:
                data = os.read(self.read_fd, READ_SIZE)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:  # closed
                return
            self.buffer += data
            if len(data) < READ_SIZE:  # nothing more waits (or the child closed its end)
                break
        while len(self.buffer) >= FRAME.size:
            _, length, micros = FRAME.unpack_from(self.buffer)
            end = FRAME.size + length
            if len(self.buffer) < end:
                return
            _log_frame(self.buffer[FRAME.size:end].decode("utf-8", "replace"), micros / 1e6)
            del self.buffer[:end]

    def close_write_end(self) -> None:
        """Once the child holds the write end, so the pipe ends with the child."""
        if self.write_fd >= 0:
            os.close(self.write_fd)
            self.write_fd = -1

    def close(self) -> None:
        self.close_write_end()
        os.close(self.read_fd)


def _log_frame(message: str, created: float) -> None:
    level_name = LEVEL.match(message)
    level = logging.getLevelName(level_name.group(1)) if level_name else logging.INFO
    _log(function_log, level if isinstance(level, int) else logging.INFO, message.rstrip("\n"), created)
