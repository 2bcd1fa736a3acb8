"""The whole feedback loop from the page: a verdict, then "Wrong", then the review is in
``feedback export`` with the label the user gave."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sentiment_app.pipeline import extra_reviews
from tests.serving_support import ServedApp, served_app
from tests.support import cli_in_home

pytestmark = pytest.mark.browser
REVIEW = "Not bad at all: I laughed more than I expected and left in a good mood."


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def app(home: Path) -> Iterator[ServedApp]:
    """``serve`` as it starts by default: it keeps every review, so that feedback has one to join."""
    with served_app(home) as served:
        yield served


def test_wrong_on_a_verdict_puts_the_review_with_the_other_label_in_the_export(page: Any, app: ServedApp,
                                                                                home: Path) -> None:
    page.fill("#review", REVIEW)
    page.click("#submit")
    page.wait_for_selector("#result:not([hidden])")
    verdict = page.text_content("#label").strip().lower()
    assert verdict in ("positive", "negative")
    page.wait_for_selector("#feedback:not([hidden])")
    assert "What is kept" in page.text_content("#feedback-kept")
    with page.expect_response(lambda reply: reply.url.endswith("/api/feedback")) as posted:
        page.click("#feedback-wrong")
    assert posted.value.status == 202
    page.wait_for_selector("#feedback-status:has-text('Thank you')")
    assert page.is_hidden("#feedback-question")

    app.process.terminate()  # serve publishes its open capture file as it stops
    app.process.wait(30)
    output = home / "feedback.csv"
    done = cli_in_home(home, "feedback", "export", "--output", str(output))
    assert done.exit_code == 0, done.output
    exported = extra_reviews(output)
    assert exported.texts == [REVIEW]
    assert exported.labels.tolist() == [0 if verdict == "positive" else 1]
