"""The Lambda Runtime API (``2018-06-01``) for one execution environment, served on the gateway's
event loop, as AWS's Runtime Interface Emulator serves it to the runtime it starts.

The runtime interface client long-polls ``GET /runtime/invocation/next`` for an event, then posts
its result to ``/runtime/invocation/{id}/response`` or its failure to ``.../error``; a failed init
posts to ``/runtime/init/error``; each error is the runtime's JSON payload (``errorType``,
``errorMessage``, ``stackTrace``). Requests are parsed by httptools (uvicorn's parser) on keep-alive
connections; what they mean is up to the :class:`Platform` (the environment).
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Protocol

import httptools

PREFIX = "/2018-06-01/runtime"
NEXT = f"{PREFIX}/invocation/next"
INIT_ERROR = f"{PREFIX}/init/error"
INVOCATION = re.compile(rf"{PREFIX}/invocation/(?P<id>[^/]+)/(?P<outcome>response|error)")
REASONS = {200: "OK", 202: "Accepted", 400: "Bad Request", 404: "Not Found", 413: "Request Entity Too Large"}


class Platform(Protocol):
    """The environment's side of the Runtime API."""

    def next_invocation(self, connection: RuntimeApiConnection) -> None:
        """The runtime waits for an event: answer ``connection.send_event`` now or once one arrives."""

    def invocation_done(self, request_id: str, outcome: str, body: bytes) -> int:
        """The runtime's result (``response``) or failure (``error``, its error payload); the status to
        answer it with."""

    def init_failed(self, body: bytes) -> None:
        """The runtime could not load the handler (``body``: its error payload)."""


def _response(status: int, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    head = [f"HTTP/1.1 {status} {REASONS.get(status, '')}", f"Content-Length: {len(body)}"]
    head += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def _status_body(status: int, message: str = "") -> bytes:
    return _response(status, json.dumps({"status": "OK"} if status < 300 else
                                        {"errorMessage": message, "errorType": "InvalidRequest"}).encode(),
                     {"Content-Type": "application/json"})


class RuntimeApiConnection(asyncio.Protocol):
    """One connection from the runtime interface client; requests are answered in order."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self._write(_status_body(400, "Malformed HTTP request"))
            if self.transport is not None:
                self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    # httptools callbacks
    def on_message_begin(self) -> None:
        self.url, self.body = b"", []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        path, method = self.url.decode("latin-1").split("?", 1)[0], self.parser.get_method()
        if method == b"GET" and path == NEXT:
            self.platform.next_invocation(self)
            return
        body = b"".join(self.body)
        invocation = INVOCATION.fullmatch(path) if method == b"POST" else None
        if invocation is not None:
            status = self.platform.invocation_done(invocation["id"], invocation["outcome"], body)
            self._write(_status_body(status, "Unknown or finished request id"))
        elif method == b"POST" and path == INIT_ERROR:
            self.platform.init_failed(body)
            self._write(_status_body(202))
        else:
            self._write(_status_body(404, f"No route {method.decode('latin-1')} {path}"))

    def send_event(self, headers: dict[str, str], body: bytes) -> None:
        """Answer the pending ``next``: the event and its invocation headers."""
        self._write(_response(200, body, {"Content-Type": "application/json", **headers}))

    @property
    def open(self) -> bool:
        return self.transport is not None and not self.transport.is_closing()

    def _write(self, data: bytes) -> None:
        if self.open:
            self.transport.write(data)  # type: ignore[union-attr]
