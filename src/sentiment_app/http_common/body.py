"""Reading a request body under a size limit, for both servers (the model server and the gateway)."""

from __future__ import annotations

from starlette.requests import Request

DRAIN_BYTES = 32 * 1024 * 1024
"""How much of an oversized body is read and dropped before the refusal: a client that sends its
whole body before reading (urllib, curl without ``Expect``) would otherwise be reset mid-upload and
never see its 413. Anything bigger is refused at once."""


class PayloadTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body exceeds the limit of {limit} bytes.")


async def read_body(request: Request, limit: int) -> bytes:
    """The body, never buffered past ``limit``: an oversized one is drained (up to
    :data:`DRAIN_BYTES`) and refused with :class:`PayloadTooLarge`."""
    declared = request.headers.get("content-length", "")
    too_big = declared.isdigit() and int(declared) > limit
    if too_big and int(declared) > DRAIN_BYTES:
        raise PayloadTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():  # counted too: chunked uploads declare no length
        size += len(chunk)
        too_big = too_big or size > limit
        if too_big and size > DRAIN_BYTES:
            break
        if not too_big:
            chunks.append(chunk)
    if too_big:
        raise PayloadTooLarge(limit)
    return b"".join(chunks)
