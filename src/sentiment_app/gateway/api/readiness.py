"""Whether a model endpoint answers ``GET /ping`` with 200, asked on the event loop.

The gateway's ``/ready`` asks this on every probe; a blocking client would need a thread per probe
(``serving.lifecycle.pings`` is the blocking one, for command-line code).
"""

from __future__ import annotations

import asyncio
import urllib.parse

PING_TIMEOUT_S = 2.0


async def _ping_status(url: str) -> int:
    parts = urllib.parse.urlsplit(url)
    secure = parts.scheme == "https"
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port or (443 if secure else 80),
                                                   ssl=True if secure else None)
    try:
        writer.write(f"GET {parts.path.rstrip('/')}/ping HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                     "Connection: close\r\n\r\n".encode("latin-1"))
        status_line = await reader.readline()  # HTTP/1.1 200 OK
    finally:
        writer.close()
    fields = status_line.split()
    return int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else 0


async def endpoint_answers(url: str, timeout_s: float = PING_TIMEOUT_S) -> bool:
    """True when ``{url}/ping`` answers 200 within ``timeout_s``."""
    try:
        return await asyncio.wait_for(_ping_status(url), timeout_s) == 200
    except (OSError, ValueError, UnicodeError, asyncio.TimeoutError):
        return False
