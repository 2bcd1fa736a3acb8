"""The security headers' policies and their middleware, on a bare ASGI app (no server). (On a real
``serve`` and in chromium: ``tests/system/test_web_headers.py``.)"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from sentiment_app.web.headers import COMMON_HEADERS, RESOURCE_POLICY, SecurityHeaders, page_policy, security_headers


def test_the_page_policy_allows_its_own_origin_only() -> None:
    directives = dict(d.split(" ", 1) for d in page_policy().split("; "))
    assert directives == {"default-src": "'self'", "connect-src": "'self'", "object-src": "'none'",
                          "base-uri": "'none'", "form-action": "'none'", "frame-ancestors": "'none'"}


@pytest.mark.parametrize("api_url, connect", [
    ("https://a1b2c3.execute-api.us-east-1.amazonaws.com/prod/api/sentiment",
     "'self' https://a1b2c3.execute-api.us-east-1.amazonaws.com"),
    ("http://127.0.0.1:3001/api/sentiment?x=1", "'self' http://127.0.0.1:3001"),
    ("//api.example.com/sentiment", "'self' api.example.com"),
    ("/api/sentiment", "'self'"),
    ("api/sentiment", "'self'"),
], ids=["api-gateway", "port", "scheme-relative", "path", "relative"])
def test_requests_may_go_to_the_api_origin(api_url: str, connect: str) -> None:
    assert f"connect-src {connect};" in page_policy(api_url)


@pytest.mark.parametrize("content_type, html", [("text/html; charset=utf-8", True), ("TEXT/HTML", True),
                                                ("application/json", False), ("text/javascript", False), ("", False)])
def test_html_gets_the_page_policy_everything_else_none(content_type: str, html: bool) -> None:
    headers = security_headers(content_type)
    assert headers["Content-Security-Policy"] == (page_policy() if html else RESOURCE_POLICY)
    assert {name: headers[name] for name in COMMON_HEADERS} == COMMON_HEADERS


def answered(headers: list[tuple[bytes, bytes]], scope_type: str = "http") -> list[dict[str, Any]]:
    """The messages the middleware sends for an app that answers with ``headers``."""
    async def app(scope: dict, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"{}"})

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(SecurityHeaders(app, api_url="https://api.example.com/sentiment")({"type": scope_type}, None, send))
    return sent


def test_the_middleware_adds_the_headers_and_keeps_the_apps_own() -> None:
    start, body = answered([(b"content-type", b"text/html"), (b"x-frame-options", b"SAMEORIGIN")])
    headers = {name.decode(): value.decode() for name, value in start["headers"]}
    assert headers["x-frame-options"] == "SAMEORIGIN"  # set by the app: left alone
    assert headers["content-security-policy"] == page_policy("https://api.example.com/sentiment")
    assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "no-referrer"
    assert body == {"type": "http.response.body", "body": b"{}"}
    assert [name for name, _ in start["headers"]].count(b"x-frame-options") == 1


def test_the_middleware_leaves_other_protocols_alone() -> None:
    (start, _) = answered([(b"content-type", b"text/html")], scope_type="websocket")
    assert start["headers"] == [(b"content-type", b"text/html")]
