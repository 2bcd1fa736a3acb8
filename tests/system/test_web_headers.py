"""The security headers of the page, its files and the API on a real ``sentiment-app serve``, and what
chromium makes of them: nothing inline runs, nobody frames the page, an API on another origin
(``--api-url``) is still allowed. (The policy text itself: ``tests/unit/test_web_headers.py``.)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sentiment_app.gateway.api.local_api import create_app
from sentiment_app.web.headers import RESOURCE_POLICY, page_policy
from tests.browser_support import playwright_api
from tests.serving_support import ServedApp
from tests.support import NEGATIVE, POSITIVE, running

COMMON = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "x-frame-options": "DENY"}
ASSETS = ["app.js", "api.js", "batch.js", "batches.js", "feedback.js", "histogram.js", "reviews.js", "style.css",
          "favicon.svg", "config.js"]


def assert_headers(reply: httpx.Response, policy: str) -> None:
    for name, value in COMMON.items():
        assert reply.headers.get(name) == value, (reply.url, name)
    assert reply.headers.get("content-security-policy") == policy, reply.url


def test_the_page_allows_only_its_own_origin(app: ServedApp) -> None:
    reply = httpx.get(f"{app.url}/")
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/html")
    assert_headers(reply, page_policy())
    policy = reply.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe" not in policy
    assert "<script>" not in reply.text and "style=" not in reply.text  # nothing inline to allow


@pytest.mark.parametrize("asset", ASSETS)
def test_files_allow_nothing(app: ServedApp, asset: str) -> None:
    reply = httpx.get(f"{app.url}/{asset}")
    assert reply.status_code == 200
    assert_headers(reply, RESOURCE_POLICY)


def test_api_answers_and_errors_carry_them(app: ServedApp) -> None:
    answer = httpx.post(f"{app.url}/api/sentiment", content=POSITIVE, headers={"Content-Type": "text/plain"})
    refused = httpx.post(f"{app.url}/api/sentiment", content=" ", headers={"Content-Type": "text/plain"})
    unknown = httpx.get(f"{app.url}/no/such/route")
    assert (answer.status_code, refused.status_code, unknown.status_code) == (200, 400, 403)
    for reply in (answer, refused, unknown):
        assert_headers(reply, RESOURCE_POLICY)
        assert reply.headers["access-control-allow-origin"] == "*"  # CORS is the function's, left as it was


# -- in the browser ----------------------------------------------------------------------------------

def violations_of(page: Any) -> list[str]:
    """Collects the Content-Security-Policy violations ``page`` reports, from now on."""
    found: list[str] = []
    page.on("console", lambda message: found.append(message.text)
            if "Content Security Policy" in message.text else None)
    return found


@pytest.mark.browser
def test_an_injected_inline_script_does_not_run(browser: Any, app: ServedApp) -> None:
    """What an injection would try: the policy refuses inline script, and chromium says so."""
    page = browser.new_page()
    found = violations_of(page)
    page.goto(app.url)
    page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.injected = true";
        document.body.append(script);
    }""")
    assert page.evaluate("window.injected === undefined")
    page.wait_for_function("document.readyState === 'complete'")
    assert any("script-src" in text or "default-src" in text for text in found), found
    page.close()


@pytest.mark.browser
def test_other_sites_cannot_frame_the_page(browser: Any, app: ServedApp) -> None:
    page = browser.new_page()
    page.set_content(f'<iframe id="framed" src="{app.url}/"></iframe>')
    frame = page.wait_for_selector("#framed").content_frame()
    frame.wait_for_load_state()
    assert frame.url.startswith("chrome-error://") and frame.locator("#review").count() == 0  # refused
    page.close()


@pytest.fixture(scope="module")
def page_elsewhere(app: ServedApp) -> Iterator[str]:
    """A second gateway serving only the page, whose ``--api-url`` is the served app's API: another origin."""
    with running(create_app(api_url=f"{app.url}/api/sentiment")) as url:
        yield url


def test_an_api_elsewhere_is_in_the_pages_policy(app: ServedApp, page_elsewhere: str) -> None:
    policy = httpx.get(f"{page_elsewhere}/").headers["content-security-policy"]
    assert f"connect-src 'self' {app.url};" in policy


@pytest.mark.browser
def test_the_page_works_with_an_api_elsewhere(browser: Any, app: ServedApp, page_elsewhere: str) -> None:
    sync_api = playwright_api()
    page = browser.new_page()
    found = violations_of(page)
    api_calls: list[str] = []
    page.on("request", lambda request: api_calls.append(request.url) if "/api/" in request.url else None)
    page.goto(page_elsewhere)
    assert page.evaluate("window.SENTIMENT_API_URL") == f"{app.url}/api/sentiment"
    page.fill("#review", POSITIVE)
    page.click("#submit")
    sync_api.expect(page.locator("#label")).to_have_text("POSITIVE")
    page.fill("#batch-text", f"{POSITIVE}\n{NEGATIVE}")
    page.click("#batch-submit")
    sync_api.expect(page.locator("#batch-summary")).to_contain_text("2 reviews: 50% positive (1)")
    assert len(api_calls) == 2 and all(url.startswith(f"{app.url}/api/sentiment") for url in api_calls), api_calls
    assert not found
    page.close()
