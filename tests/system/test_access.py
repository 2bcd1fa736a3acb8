"""Access control on the local API Gateway: API keys, throttling, quotas, CORS allow-list, limits.

Keys are made and revoked through the real CLI; the gateway is a real ``sentiment-app serve`` process
tree on loopback; the key store is a real folder. (The token buckets, quotas and the key store
without a gateway: ``tests/unit/test_access.py``.)
"""

from __future__ import annotations

import json
import signal
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, playwright_api
from tests.serving_support import ServedApp, create_key, key_usage, served_app
from tests.support import POSITIVE, cli_in_home

API = "/api/sentiment"
ALLOWED = "http://allowed.example"
OTHER = "http://other.example"


@dataclass
class Gateway:
    app: ServedApp
    home: Path
    log: Path
    keys: dict[str, str]

    def post(self, key: str | None = None, body: str | bytes = POSITIVE, **headers: str) -> httpx.Response:
        if key is not None:
            headers["x-api-key"] = key
        return httpx.post(f"{self.app.url}{API}", content=body, headers={"Content-Type": "text/plain", **headers},
                          timeout=30)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    home = tmp_path_factory.mktemp("home")
    log = home / "serve.log"
    keys = {"good": create_key(home, "good"),
            "burst": create_key(home, "burst", "--rate", "0.2", "--burst", "2"),
            "quota": create_key(home, "quota", "--quota", "3"),
            "revoked": create_key(home, "revoked")}
    assert cli_in_home(home, "apikey", "revoke", "revoked").exit_code == 0
    options = ("--require-api-key", "--cors-origin", ALLOWED, "--max-request-mb", "0.05", "--timeout", "3")
    with served_app(home, *options, log=log) as app:
        yield Gateway(app, home, log, keys)


def test_requests_without_a_valid_key_are_forbidden(gateway: Gateway) -> None:
    for key in (None, "", "sa_not-a-real-key", gateway.keys["good"] + "x", gateway.keys["revoked"]):
        reply = gateway.post(key)
        assert reply.status_code == 403, key
        assert reply.json() == {"message": "Forbidden"}
    assert gateway.post(gateway.keys["good"].upper()).status_code == 403  # keys are case-sensitive


def test_a_valid_key_is_admitted(gateway: Gateway) -> None:
    reply = gateway.post(gateway.keys["good"])
    assert reply.status_code == 200
    assert reply.json()["label"] == "positive"


def test_rate_limit_answers_429_beyond_the_burst(gateway: Gateway) -> None:
    """Burst 2 at 0.2 requests/s: two go through at once, the next ones within 5 s are throttled."""
    statuses = [gateway.post(gateway.keys["burst"]) for _ in range(5)]
    assert [r.status_code for r in statuses] == [200, 200, 429, 429, 429]
    assert statuses[2].json() == {"message": "Too Many Requests"}
    assert gateway.post(gateway.keys["good"]).status_code == 200  # limits are per key


def test_daily_quota_answers_429_once_used_up(gateway: Gateway) -> None:
    statuses = [gateway.post(gateway.keys["quota"]).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    over = gateway.post(gateway.keys["quota"])
    assert over.status_code == 429 and over.json() == {"message": "Limit Exceeded"}
    time.sleep(1.1)  # usage.json is written at most once a second, on the next request
    gateway.post(gateway.keys["good"])
    listed = key_usage(gateway.home)
    assert listed["quota"]["requests_today"] == 3 and listed["quota"]["quota"] == 3
    assert listed["revoked"]["status"] == "revoked" and listed["good"]["status"] == "active"


def test_new_and_revoked_keys_apply_without_restart(gateway: Gateway) -> None:
    key = create_key(gateway.home, "late")
    assert gateway.post(key).status_code == 200
    done = cli_in_home(gateway.home, "apikey", "revoke", "late")
    assert done.exit_code == 0 and "Revoked" in done.stdout
    assert gateway.post(key).status_code == 403
    assert gateway.app.process.poll() is None  # the same server, still running


def test_preflight_needs_no_key_and_cors_follows_the_allow_list(gateway: Gateway) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-api-key"}
    allowed = httpx.options(f"{gateway.app.url}{API}", headers={"Origin": ALLOWED, **preflight})
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == ALLOWED
    assert "x-api-key" in allowed.headers["access-control-allow-headers"].lower()
    other = httpx.options(f"{gateway.app.url}{API}", headers={"Origin": OTHER, **preflight})
    assert other.status_code == 204
    assert "access-control-allow-origin" not in other.headers
    assert "access-control-allow-headers" not in other.headers

    ok = gateway.post(gateway.keys["good"], Origin=ALLOWED)
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == ALLOWED
    assert "origin" in ok.headers["vary"].lower()
    elsewhere = gateway.post(gateway.keys["good"], Origin=OTHER)
    assert "access-control-allow-origin" not in elsewhere.headers
    # the gateway's own answers follow the same list, so a page can read why it was refused
    refused = gateway.post(None, Origin=ALLOWED)
    assert refused.status_code == 403 and refused.headers["access-control-allow-origin"] == ALLOWED
    assert "access-control-allow-origin" not in gateway.post(None, Origin=OTHER).headers


def test_request_size_limit_is_a_setting(gateway: Gateway) -> None:
    big = gateway.post(gateway.keys["good"], body="great film " * 6000)  # 66 kB > 0.05 MB
    assert big.status_code == 413 and big.json() == {"message": "Request Too Long"}
    assert gateway.post(gateway.keys["good"], body="great film " * 3000).status_code == 200  # 33 kB


def test_request_time_limit_is_a_setting(gateway: Gateway) -> None:
    """A frozen endpoint (SIGSTOP): the gateway gives up after --timeout 3 with API Gateway's 504."""
    endpoint = next(child for child in psutil.Process(gateway.app.process.pid).children(recursive=True)
                    if "sentiment_app.cli.endpoint_server" in " ".join(child.cmdline()))
    endpoint.send_signal(signal.SIGSTOP)
    try:
        started = time.monotonic()
        reply = gateway.post(gateway.keys["good"])
        waited = time.monotonic() - started
    finally:
        endpoint.send_signal(signal.SIGCONT)
    assert reply.status_code == 504 and reply.json() == {"message": "Endpoint request timed out"}
    assert 2.5 < waited < 10
    assert gateway.post(gateway.keys["good"]).status_code == 200  # recovers once the endpoint runs again


def test_page_asks_for_a_key_but_config_carries_none(gateway: Gateway) -> None:
    config = httpx.get(f"{gateway.app.url}/config.js").text
    assert "window.SENTIMENT_API_KEY_REQUIRED = true;" in config
    assert not any(key in config for key in gateway.keys.values()) and "sa_" not in config
    assert 'id="api-key"' in httpx.get(f"{gateway.app.url}/").text


@pytest.mark.browser
def test_page_works_when_keys_are_required(gateway: Gateway) -> None:
    """In chromium: the page shows the key field, explains a 403, and answers once given a key."""
    sync_api = playwright_api()  # skips here if there is no playwright or no chromium
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(gateway.app.url)
            sync_api.expect(page.locator("#api-key")).to_be_visible()
            page.fill("#review", POSITIVE)
            page.click("#submit")
            sync_api.expect(page.locator("#error")).to_contain_text("API key is missing, wrong or revoked")
            page.fill("#api-key", gateway.keys["good"])
            page.click("#submit")
            sync_api.expect(page.locator("#label")).to_have_text("POSITIVE")
            sync_api.expect(page.locator("#error")).to_be_hidden()
        finally:
            browser.close()


def test_keys_are_stored_hashed_and_never_logged(gateway: Gateway) -> None:
    gateway.post(gateway.keys["good"])
    store = gateway.home / "apikeys" / "keys.json"
    stored = store.read_text()
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.parent.stat().st_mode) == 0o700
    records = json.loads(stored)["keys"]
    assert set(records) >= {"good", "burst", "quota", "revoked"}
    assert all(len(record["key_hash"]) == 64 for record in records.values())
    log = gateway.log.read_text()
    assert "/api/sentiment" in log  # the log really captured the requests
    for key in gateway.keys.values():
        assert key not in stored and key not in log
        assert key[3:20] not in stored and key[3:20] not in log
    listing = cli_in_home(gateway.home, "apikey", "list")
    assert listing.exit_code == 0 and "good" in listing.stdout
    assert not any(key in listing.stdout for key in gateway.keys.values())
