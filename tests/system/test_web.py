"""The web page in a real browser (Debian chromium through Playwright) against ``sentiment-app serve``."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import CHROMIUM, CHROMIUM_ARGS, NEGATIVE, POSITIVE, REPO, ServedApp

SCREENSHOT_DIR_ENV = "SENTIMENT_APP_SCREENSHOT_DIR"
XSS = "<script>alert(1)</script> I loved this film, <img src=x onerror=alert(2)> truly wonderful."

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"Debian chromium is not installed at {CHROMIUM}"),
]

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: sync_api.Browser, app: ServedApp) -> Iterator[sync_api.Page]:
    """A fresh page on the app that fails the test on any request leaving the app's origin."""
    context = browser.new_context()
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda request: None if request.url.startswith(app.url) else outside.append(request.url))
    page.goto(app.url)
    yield page
    context.close()
    assert not outside, f"requests to other hosts: {outside}"


def analyse(page: sync_api.Page, review: str) -> None:
    page.fill("#review", review)
    page.click("#submit")
    sync_api.expect(page.locator("#submit")).to_be_enabled()  # the request is over
    sync_api.expect(page.locator("#submit")).to_have_text("Analyse sentiment")


def save_screenshot(page: sync_api.Page, tmp_path: Path, name: str) -> None:
    """Into the test's tmp dir, and into $SENTIMENT_APP_SCREENSHOT_DIR (relative to the repo) if set."""
    page.screenshot(path=tmp_path / name, full_page=True)
    if os.environ.get(SCREENSHOT_DIR_ENV):
        folder = REPO / os.environ[SCREENSHOT_DIR_ENV]
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=folder / name, full_page=True)


@pytest.mark.parametrize("review, verdict", [(POSITIVE, "POSITIVE"), (NEGATIVE, "NEGATIVE")], ids=["pos", "neg"])
def test_review_gets_a_verdict(page: sync_api.Page, review: str, verdict: str) -> None:
    analyse(page, review)
    result = page.locator("#result")
    sync_api.expect(result).to_be_visible()
    sync_api.expect(result).to_contain_text(verdict)
    sync_api.expect(result).to_contain_text("Confidence:")
    sync_api.expect(page.locator("#error")).to_be_hidden()


def test_markup_in_a_review_is_shown_as_text(page: sync_api.Page) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    analyse(page, XSS)
    sync_api.expect(page.locator("#quoted")).to_have_text(XSS)
    assert page.locator("#result script, #result img").count() == 0
    assert not dialogs


@pytest.mark.parametrize("failure, words", [
    ({"status": 502, "content_type": "application/json", "body": json.dumps({"message": "Internal server error"})},
     ["502", "Internal server error"]),
    ({"status": 500, "content_type": "text/html", "body": "<h1>oops</h1>"}, ["500"]),
    (None, ["Could not reach"]),
], ids=["gateway-502", "html-500", "network-down"])
def test_errors_are_shown_never_a_verdict(page: sync_api.Page, failure: dict | None, words: list[str]) -> None:
    """The original page showed POSITIVE for any error; here the API answer is replaced in the browser."""
    page.route("**/api/sentiment*", lambda route: route.fulfill(**failure) if failure else route.abort())
    analyse(page, POSITIVE)
    error = page.locator("#error")
    sync_api.expect(error).to_be_visible()
    for word in words:
        sync_api.expect(error).to_contain_text(word)
    sync_api.expect(page.locator("#result")).to_be_hidden()
    assert "POSITIVE" not in page.inner_text("body")


def test_loading_state_while_waiting(page: sync_api.Page) -> None:
    """The request is held in the browser so the busy state can be seen, then let through."""
    held: list[sync_api.Route] = []
    page.route("**/api/sentiment*", lambda route: held.append(route))
    page.fill("#review", NEGATIVE)
    page.click("#submit")
    sync_api.expect(page.locator("#submit")).to_be_disabled()
    sync_api.expect(page.locator("#submit")).to_have_text("Analysing…")
    held[0].continue_()
    sync_api.expect(page.locator("#result")).to_contain_text("NEGATIVE")
    sync_api.expect(page.locator("#submit")).to_be_enabled()


def test_empty_review_asks_for_text(page: sync_api.Page) -> None:
    page.click("#submit")
    sync_api.expect(page.locator("#error")).to_contain_text("write a review")


def test_example_fills_the_box(page: sync_api.Page) -> None:
    page.get_by_role("button", name="Hated it").click()
    assert page.input_value("#review") == NEGATIVE


@pytest.mark.parametrize("viewport, name", [({"width": 1280, "height": 900}, "screenshot.png"),
                                            ({"width": 390, "height": 844}, "screenshot-phone.png")],
                         ids=["desktop", "phone"])
def test_layout_and_screenshot(page: sync_api.Page, tmp_path: Path, viewport: dict[str, int], name: str) -> None:
    page.set_viewport_size(viewport)
    analyse(page, POSITIVE)
    sync_api.expect(page.locator("#result")).to_contain_text("POSITIVE")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "horizontal scrolling"
    save_screenshot(page, tmp_path, name)


def marks(page: sync_api.Page) -> list[dict]:
    """Every highlighted word: its text, class, computed background (r, g, b, alpha) and strength."""
    return page.eval_on_selector_all("#quoted mark", """elements => elements.map(el => {
        const [r, g, b, a = 1] = getComputedStyle(el).backgroundColor.match(/[\\d.]+/g).map(Number);
        return {text: el.textContent, cls: el.className, rgba: [r, g, b, a],
                strength: Number(el.style.getPropertyValue("--strength"))};
    })""")


def test_explaining_words_are_highlighted_green_and_red(page: sync_api.Page) -> None:
    analyse(page, POSITIVE)
    sync_api.expect(page.locator("#result")).to_contain_text("POSITIVE")
    sync_api.expect(page.locator("#quoted")).to_have_text(POSITIVE)  # highlighting leaves the text as it was
    sync_api.expect(page.locator("#legend")).to_be_visible()
    found = marks(page)
    positive = [m for m in found if m["cls"] == "towards-positive"]
    negative = [m for m in found if m["cls"] == "towards-negative"]
    assert positive and negative, found
    assert all(r < g for r, g, _, _ in (m["rgba"] for m in positive)), positive  # green
    assert all(r > g for r, g, _, _ in (m["rgba"] for m in negative)), negative  # red
    strongest = max(positive, key=lambda m: m["strength"])
    assert strongest["text"].lower() in {"wonderful", "brilliant", "loved", "moving"}
    weakest = min(positive, key=lambda m: m["strength"])
    assert strongest["rgba"][3] > weakest["rgba"][3]  # intensity follows the weight


def test_markup_in_a_review_stays_text_among_highlights(page: sync_api.Page) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    analyse(page, XSS)
    sync_api.expect(page.locator("#quoted")).to_have_text(XSS)
    assert page.locator("#quoted mark").count() > 0
    assert page.locator("#quoted *:not(mark)").count() == 0
    words = {m["text"].lower() for m in marks(page)}
    assert all(word.isalnum() for word in words) and not words & {"script", "img", "src", "onerror"}, words
    assert not dialogs


def test_a_reply_without_words_shows_the_review_plainly(page: sync_api.Page) -> None:
    """An API that answers without an explanation (e.g. an older endpoint) still gets its verdict shown."""
    reply = {"label": "negative", "probability": 0.1, "model_version": "old"}
    page.route("**/api/sentiment*", lambda route: route.fulfill(status=200, content_type="application/json",
                                                               body=json.dumps(reply)))
    analyse(page, NEGATIVE)
    sync_api.expect(page.locator("#result")).to_contain_text("NEGATIVE")
    sync_api.expect(page.locator("#quoted")).to_have_text(NEGATIVE)
    assert page.locator("#quoted mark").count() == 0
    sync_api.expect(page.locator("#legend")).to_be_hidden()
