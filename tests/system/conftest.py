"""The system layer: the real IMDB data, real servers and processes, a real browser."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, playwright_api
from tests.serving_support import ServedApp, served_app

# Reports every Content-Security-Policy violation on the console (an init script runs outside the policy).
CSP_REPORTER = """document.addEventListener("securitypolicyviolation", (event) =>
    console.error("CSP violation: " + event.violatedDirective + " blocked " + event.blockedURI));"""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    """``sentiment-app serve`` with the bundled model (gateway + endpoint processes), one per module."""
    with served_app(tmp_path_factory.mktemp("home")) as served:
        yield served


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian chromium through Playwright, one per module (skips where either is missing)."""
    sync_api = playwright_api()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, app: ServedApp) -> Iterator[Any]:
    """A fresh page on the app that fails the test on any request leaving the app's origin and on any
    Content-Security-Policy violation the browser reports."""
    context = browser.new_context()
    context.add_init_script(CSP_REPORTER)
    page = context.new_page()
    outside: list[str] = []
    violations: list[str] = []
    page.on("request", lambda request: None if request.url.startswith(app.url) else outside.append(request.url))
    page.on("console", lambda message: violations.append(message.text)
            if "CSP violation" in message.text or "Content Security Policy" in message.text else None)
    page.goto(app.url)
    yield page
    context.close()
    assert not outside, f"requests to other hosts: {outside}"
    assert not violations, f"Content-Security-Policy violations: {violations}"
