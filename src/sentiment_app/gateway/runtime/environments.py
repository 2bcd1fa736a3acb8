"""One local execution environment seen from the gateway: a worker process running
:mod:`sentiment_app.gateway.runtime`, reached over a socket pair on the gateway's event loop.

The gateway writes an event and reads the answer without a thread; the function's log records come
back with the answer and are logged here under their own logger names (with their own times), so
the environments write nothing to the gateway's log themselves. The socket doubles as the
environment's pulse: when the process dies, its end closes, and the exit is reported as soon as the
process is reaped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from sentiment_app.gateway.runtime import loop as runtime
from sentiment_app.gateway.runtime.loop import HEADER, encode

RUNTIME_MODULE = runtime.__name__  # run as python -m
REAP_INTERVAL_S = 0.01


def _relog(records: list[list[Any]]) -> None:
    """The environment's records, logged here as if this process had logged them (at their own time)."""
    for name, level, created, message in records:
        target = logging.getLogger(name)
        if target.isEnabledFor(level):
            record = target.makeRecord(name, level, RUNTIME_MODULE, 0, message, None, None)
            record.created, record.msecs = created, created % 1 * 1000
            target.handle(record)


class ExecutionEnvironment(asyncio.Protocol):
    """A worker process that imports the function once and answers one event at a time.

    ``on_reply(environment, answer)`` gets each answer; ``on_exit(environment)`` runs once the
    process is gone (crashed, or killed by the gateway) and reaped, so no zombie outlives it."""

    def __init__(self, handler: str, on_reply: Callable[[ExecutionEnvironment, dict[str, Any]], None],
                 on_exit: Callable[[ExecutionEnvironment], None]) -> None:
        self.on_reply, self.on_exit = on_reply, on_exit
        self.transport: asyncio.Transport | None = None
        self.pending: list[bytes] = []  # written once the connection is made
        self.buffer = bytearray()
        self.gone = False
        self.socket, theirs = socket.socketpair()
        try:
            with theirs:
                self.process = subprocess.Popen(
                    [sys.executable, "-m", RUNTIME_MODULE, str(theirs.fileno()), handler, repr(time.time())],
                    stdin=subprocess.DEVNULL, pass_fds=[theirs.fileno()],
                )
        except OSError:
            self.socket.close()
            raise
        loop = asyncio.get_running_loop()
        self.connecting = asyncio.ensure_future(loop.create_connection(lambda: self, sock=self.socket))
        self.connecting.add_done_callback(self._connected)

    def send(self, message: dict[str, Any]) -> None:
        data = encode(message)
        if self.transport is None:
            self.pending.append(data)
        else:
            self.transport.write(data)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        for data in self.pending:
            self.transport.write(data)
        self.pending.clear()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= HEADER.size:
            (length,) = HEADER.unpack_from(self.buffer)
            end = HEADER.size + length
            if len(self.buffer) < end:
                return
            answer = json.loads(self.buffer[HEADER.size:end])
            del self.buffer[:end]
            _relog(answer.pop("logs", []))
            self.on_reply(self, answer)

    def _connected(self, connecting: asyncio.Future[Any]) -> None:
        if connecting.cancelled() or connecting.exception() is not None:
            self.socket.close()
            self.connection_lost(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.gone:
            return
        self.gone = True
        self.kill()  # a process that closed its end but lingers goes too
        self._reap()

    def _reap(self) -> None:
        """Collect the exit status without blocking the event loop, then report the exit."""
        if self.process.poll() is None:
            asyncio.get_running_loop().call_later(REAP_INTERVAL_S, self._reap)
        else:
            self.on_exit(self)

    def kill(self) -> None:
        """End the process now (a hung or timed-out environment is not reused, as in Lambda)."""
        if self.process.poll() is None:
            self.process.kill()

