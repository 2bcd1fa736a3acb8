"""The web page in a real browser (Debian chromium through Playwright) against ``sentiment-app serve``
(the ``browser`` and ``page`` fixtures: ``conftest.py``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.browser_support import CHROMIUM
from tests.serving_support import ServedApp
from tests.support import NEGATIVE, POSITIVE, REPO

SCREENSHOT_DIR_ENV = "SENTIMENT_APP_SCREENSHOT_DIR"
XSS = "<script>alert(1)</script> I loved this film, <img src=x onerror=alert(2)> truly wonderful."

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"Debian chromium is not installed at {CHROMIUM}"),
]

sync_api = pytest.importorskip("playwright.sync_api")


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


def test_a_mixed_review_shows_each_sentences_verdict(page: sync_api.Page) -> None:
    review = "The acting was wonderful and moving. The plot was a dull, stupid mess."
    analyse(page, review)
    sync_api.expect(page.locator("#sentences")).to_be_visible()
    items = page.locator("#sentence-list li")
    sync_api.expect(items).to_have_count(2)
    first, second = items.nth(0).text_content(), items.nth(1).text_content()
    assert first.startswith("positive ") and first.endswith("The acting was wonderful and moving."), first
    assert second.startswith("negative ") and second.endswith("The plot was a dull, stupid mess."), second
    assert items.nth(0).get_attribute("class") == "towards-positive"
    analyse(page, POSITIVE)  # one sentence
    sync_api.expect(page.locator("#sentences")).to_be_hidden()  # the overall verdict says it all


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
    sync_api.expect(page.locator("#feedback")).to_be_hidden()  # no inference id: nothing to give feedback on


# -- "Right?": feedback on a verdict (the feedback API is played by the browser here) ------------------

def answer_to(page: sync_api.Page, review: str) -> dict:
    """Analyses ``review`` on the page; the API's answer as the page received it."""
    with page.expect_response("**/api/sentiment*") as reply:
        analyse(page, review)
    return reply.value.json()


def feedback_route(page: sync_api.Page, *statuses: int) -> list[sync_api.Request]:
    """Answers the page's feedback requests with ``statuses`` in turn (202 once they run out); the requests."""
    sent: list[sync_api.Request] = []

    def answer(route: sync_api.Route) -> None:
        sent.append(route.request)
        status = statuses[len(sent) - 1] if len(sent) <= len(statuses) else 202
        body = {"message": "The feedback could not be stored; try again later."} if status >= 400 else {}
        route.fulfill(status=status, json=body or json.loads(route.request.post_data))

    page.route("**/api/feedback", answer)
    return sent


@pytest.mark.parametrize("button, truth", [("Right", "positive"), ("Wrong", "negative")])
def test_right_or_wrong_sends_the_true_label(page: sync_api.Page, app: ServedApp, button: str, truth: str) -> None:
    sent = feedback_route(page)
    answer = answer_to(page, POSITIVE)
    assert answer["label"] == "positive" and answer["inference_id"]
    sync_api.expect(page.locator("#feedback")).to_contain_text("Right?")
    page.get_by_role("button", name=button, exact=True).click()
    sync_api.expect(page.locator("#feedback-status")).to_have_text("Thank you: your answer helps improve the model.")
    sync_api.expect(page.locator("#feedback-right")).to_be_hidden()
    (request,) = sent
    assert request.method == "POST" and request.url == f"{app.url}/api/feedback"
    assert request.headers["content-type"] == "application/json"
    assert request.post_data_json == {"inference_id": answer["inference_id"], "label": truth}
    answer_to(page, NEGATIVE)  # a new verdict asks again
    sync_api.expect(page.locator("#feedback-wrong")).to_be_enabled()
    sync_api.expect(page.locator("#feedback-status")).to_be_hidden()


def test_feedback_that_fails_says_so_and_can_be_sent_again(page: sync_api.Page) -> None:
    sent = feedback_route(page, 500)
    answer = answer_to(page, NEGATIVE)
    page.get_by_role("button", name="Wrong", exact=True).click()
    status = page.locator("#feedback-status")
    sync_api.expect(status).to_contain_text("Sorry, your answer could not be sent (error 500)")
    sync_api.expect(status).to_contain_text("try again later")
    sync_api.expect(page.locator("#feedback-wrong")).to_be_enabled()
    page.get_by_role("button", name="Wrong", exact=True).click()
    sync_api.expect(status).to_contain_text("Thank you")
    expected = {"inference_id": answer["inference_id"], "label": "positive"}
    assert [request.post_data_json for request in sent] == [expected, expected]


def test_feedback_carries_the_api_key(page: sync_api.Page) -> None:
    """With keys required (config.js says so), the feedback goes with the key the user typed, like the review."""
    reply = {"label": "negative", "probability": 0.2, "model_version": "m",
             "inference_id": "7c0ffee0-0000-4000-8000-000000000001"}
    page.route("**/config.js", lambda route: route.fulfill(
        content_type="text/javascript", body="window.SENTIMENT_API_KEY_REQUIRED = true;\n"))
    page.route("**/api/sentiment*", lambda route: route.fulfill(json=reply))
    sent = feedback_route(page)
    page.reload()
    page.fill("#api-key", "sa_a-key-for-the-test")
    analyse(page, NEGATIVE)
    page.get_by_role("button", name="Right", exact=True).click()
    sync_api.expect(page.locator("#feedback-status")).to_contain_text("Thank you")
    assert sent[0].headers["x-api-key"] == "sa_a-key-for-the-test"
    assert sent[0].post_data_json == {"inference_id": reply["inference_id"], "label": "negative"}
