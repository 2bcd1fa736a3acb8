"""An oversized body gets its 413 even from clients that send the whole body before reading the
answer (urllib, curl, httpx), from the endpoint and from the gateway, on real servers."""

from __future__ import annotations

import subprocess
import urllib.error
import urllib.request

import httpx
import pytest

from tests.serving_support import ServedApp

ENDPOINT_BODY = 7 * 1024 * 1024  # over InvokeEndpoint's 6 MB
GATEWAY_BODY = 12 * 1024 * 1024  # over API Gateway's 10 MB


def targets(app: ServedApp) -> list[tuple[str, int]]:
    return [(f"http://127.0.0.1:{app.endpoint_port}/invocations", ENDPOINT_BODY),
            (f"{app.url}/api/sentiment", GATEWAY_BODY)]


def test_urllib_gets_413_not_a_reset(app: ServedApp) -> None:
    for url, size in targets(app):
        request = urllib.request.Request(url, data=b"a" * size, headers={"Content-Type": "text/plain"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 413, url


def test_curl_gets_413(app: ServedApp, tmp_path) -> None:
    for url, size in targets(app):
        body = tmp_path / "big.txt"
        body.write_bytes(b"a" * size)
        done = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Expect:",
                               "-H", "Content-Type: text/plain", "--data-binary", f"@{body}", url],
                              capture_output=True, text=True, timeout=60)
        assert done.stdout == "413", (url, done.stdout, done.stderr)


def test_httpx_gets_413_and_the_connection_still_serves(app: ServedApp) -> None:
    with httpx.Client(timeout=30) as client:
        for url, size in targets(app):
            assert client.post(url, content=b"a" * size, headers={"Content-Type": "text/plain"}).status_code == 413
            assert client.post(url, content=b"A wonderful film.", headers={"Content-Type": "text/plain"}).status_code == 200
