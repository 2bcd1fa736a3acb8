"""The security headers a public site sends, as an ASGI middleware for the app that serves the page.

The page loads only its own files (no inline script or style, no outside host), so its
Content-Security-Policy allows nothing but its own origin, plus the API's origin when the API lives
elsewhere (``serve --api-url https://...``). Every other answer (scripts, styles, JSON) gets a
policy that allows nothing at all, which only matters if one is ever opened as a document. No answer
may be framed by another site, none may be sniffed into another type, and no address leaks out in a
``Referer``. A header the app set itself is left as it is.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sentiment_app.web import DEFAULT_API_URL

HTML = "text/html"
RESOURCE_POLICY = "default-src 'none'; frame-ancestors 'none'"
COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",  # for browsers that predate frame-ancestors
}


def page_policy(api_url: str = DEFAULT_API_URL) -> str:
    """The page's Content-Security-Policy: its own origin only, and ``api_url``'s origin for requests
    when that names a host (a path is on the page's own origin; ``//host/...`` keeps the page's scheme)."""
    parts = urlsplit(api_url)
    api_origin = "" if not parts.netloc else f"{parts.scheme}://{parts.netloc}" if parts.scheme else parts.netloc
    return "; ".join([
        "default-src 'self'",
        f"connect-src 'self' {api_origin}".rstrip(),
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",  # the page's forms are sent by its script, never by the browser
        "frame-ancestors 'none'",
    ])


def _is_html(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == HTML


def security_headers(content_type: str, api_url: str = DEFAULT_API_URL) -> dict[str, str]:
    """The headers for an answer of ``content_type``: the page's policy for HTML, none allowed else."""
    policy = page_policy(api_url) if _is_html(content_type) else RESOURCE_POLICY
    return {**COMMON_HEADERS, "Content-Security-Policy": policy}


class SecurityHeaders:
    """Adds :func:`security_headers` to every HTTP answer of the wrapped app (set-if-absent); both
    sets are built once, not per answer."""

    def __init__(self, app: ASGIApp, api_url: str = DEFAULT_API_URL) -> None:
        self.app = app
        self.page_headers = security_headers(HTML, api_url)
        self.resource_headers = security_headers("", api_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                wanted = self.page_headers if _is_html(headers.get("content-type", "")) else self.resource_headers
                for name, value in wanted.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
