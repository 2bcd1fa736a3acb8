"""Many reviews from the web page, in a real browser against ``sentiment-app serve``: pasted lines and
uploaded files (text, CSV, real IMDB reviews) give a table, a summary, a histogram and a CSV download
that agree with the API's own answers; the API's 429s are waited out and retried; a bad review fails
alone. (The ``browser`` and ``page`` fixtures: ``conftest.py``.)"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import time
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest

from tests.browser_support import CHROMIUM
from tests.data_support import imdb_data
from tests.serving_support import ServedApp
from tests.support import MIXED_REVIEWS, NEGATIVE, POSITIVE

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"Debian chromium is not installed at {CHROMIUM}"),
]

sync_api = pytest.importorskip("playwright.sync_api")

API_ROUTE = "**/api/sentiment*"
QUOTED = 'He said "fine, I guess", then\nleft. Boring.'  # a comma, quotes and a line break in one CSV field


def constant(page: sync_api.Page, module: str, name: str) -> Any:
    """A constant the page's own module exports (e.g. its batch size), as the page uses it."""
    return page.evaluate(f"import('./{module}').then(m => m.{name})")


def api_verdicts(app: ServedApp, texts: list[str]) -> list[dict[str, Any]]:
    """What the API itself answers for ``texts``, in order."""
    reply = httpx.post(f"{app.url}/api/sentiment", json={"instances": texts}, timeout=120)
    assert reply.status_code == 200, reply.text
    return reply.json()["predictions"]


def confidence(verdict: dict[str, Any]) -> float:
    return verdict["probability"] if verdict["label"] == "positive" else 1 - verdict["probability"]


def wait_for_results(page: sync_api.Page) -> None:
    sync_api.expect(page.locator("#batch-result")).to_be_visible(timeout=120_000)
    sync_api.expect(page.locator("#batch-submit")).to_be_enabled()


def wait_until(page: sync_api.Page, condition: Callable[[], bool]) -> None:
    """Lets the browser's events (e.g. intercepted requests) arrive until ``condition`` holds."""
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, "the browser did not get there"
        page.wait_for_timeout(20)


def upload(page: sync_api.Page, name: str, data: bytes, mime: str) -> None:
    page.set_input_files("#batch-file", files=[{"name": name, "mimeType": mime, "buffer": data}])
    wait_for_results(page)


def table(page: sync_api.Page) -> list[list[str]]:
    return page.eval_on_selector_all("#batch-rows tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))")


def downloaded(page: sync_api.Page) -> list[dict[str, str]]:
    with page.expect_download() as info:
        page.click("#batch-download")
    assert info.value.suggested_filename == "sentiment-results.csv"
    with open(info.value.path(), newline="", encoding="utf-8") as results:
        return list(csv.DictReader(results))


def histogram(page: sync_api.Page) -> dict[tuple[int, str], int]:
    bars = page.eval_on_selector_all("#batch-chart rect.bar",
                                     "bars => bars.map(b => [b.dataset.bin, b.dataset.label, b.dataset.count])")
    return {(int(bin_), label): int(count) for bin_, label, count in bars}


def share(part: int, whole: int) -> str:
    """A share as the page writes it (Intl: at most one decimal, halves away from zero)."""
    tenths = (Decimal(100 * part) / whole).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return f"{tenths}".removesuffix(".0") + "%"


def snippet(text: str) -> str:
    """A review as the table shows it: its first 200 UTF-16 units (JavaScript's), the rest in the CSV."""
    units = text.encode("utf-16-le", "surrogatepass")
    return text if len(units) <= 400 else units[:400].decode("utf-16-le", "surrogatepass") + "…"


def percent(value: float) -> str:
    """A confidence as the page shows it (JavaScript's Math.round: halves up)."""
    return f"{math.floor(value * 100 + 0.5)}%"


def assert_results(page: sync_api.Page, app: ServedApp, rows: list[int], texts: list[str]) -> None:
    """Table, summary, histogram and CSV download all say what the API says about ``texts`` (found at
    input rows ``rows``)."""
    verdicts = api_verdicts(app, texts)
    shown = table(page)
    assert [int(cells[0]) for cells in shown] == rows
    assert [cells[2] for cells in shown] == [v["label"].upper() for v in verdicts]
    assert [cells[3] for cells in shown] == [percent(confidence(v)) for v in verdicts]
    assert [cells[1] for cells in shown] == [snippet(text) for text in texts]

    positive = sum(v["label"] == "positive" for v in verdicts)
    negative = len(verdicts) - positive
    sync_api.expect(page.locator("#batch-summary")).to_have_text(
        f"{len(texts):,} reviews: {share(positive, len(texts))} positive ({positive:,}), "
        f"{share(negative, len(texts))} negative ({negative:,}).")

    expected_bins: dict[tuple[int, str], int] = {}
    bins = constant(page, "histogram.js", "BINS")
    for v in verdicts:
        key = (min(bins - 1, int((confidence(v) - 0.5) * 2 * bins)), v["label"])
        expected_bins[key] = expected_bins.get(key, 0) + 1
    assert histogram(page) == expected_bins

    results = downloaded(page)
    assert [int(r["row"]) for r in results] == rows and [r["review"] for r in results] == texts
    assert [r["label"] for r in results] == [v["label"] for v in verdicts]
    assert [float(r["probability"]) for r in results] == [v["probability"] for v in verdicts]
    assert all(abs(float(r["confidence"]) - confidence(v)) < 1e-6 for r, v in zip(results, verdicts))
    assert not any(r["error"] for r in results)


def test_pasted_lines_one_review_each(page: sync_api.Page, app: ServedApp) -> None:
    lines = [POSITIVE, "", NEGATIVE, "   ", *MIXED_REVIEWS[2:], "<b>Great</b> fun, <script>alert(1)</script>"]
    page.fill("#batch-text", "\n".join(lines))
    page.click("#batch-submit")
    wait_for_results(page)
    rows = [number for number, line in enumerate(lines, 1) if line.strip()]
    assert_results(page, app, rows, [lines[number - 1] for number in rows])
    assert page.locator("#batch-rows script, #batch-rows b").count() == 0  # text, never markup


@pytest.mark.parametrize("name, mime, data, rows, texts", [
    ("reviews.txt", "text/plain", f"{POSITIVE}\r\n\r\n{NEGATIVE}\r\n{QUOTED.replace(chr(10), ' ')}".encode(),
     [1, 3, 4], [POSITIVE, NEGATIVE, QUOTED.replace("\n", " ")]),
    ("reviews.CSV", "", ("\ufeffid,Review,stars\r\n" + "".join(
        f'{i},"{text.replace(chr(34), chr(34) * 2)}",{i}\r\n'
        for i, text in enumerate([POSITIVE, "", QUOTED, NEGATIVE], 1))
    ).encode(), [1, 3, 4], [POSITIVE, QUOTED, NEGATIVE]),
    ("export.dat", "text/csv", f'text\n"{NEGATIVE}"\n"{POSITIVE}"'.encode(), [1, 2], [NEGATIVE, POSITIVE]),
], ids=["txt-lines", "csv-review-column", "csv-by-type"])
def test_uploaded_file(page: sync_api.Page, app: ServedApp, name: str, mime: str, data: bytes, rows: list[int],
                       texts: list[str]) -> None:
    upload(page, name, data, mime)
    assert_results(page, app, rows, texts)


def test_real_reviews_in_several_batches(page: sync_api.Page, app: ServedApp) -> None:
    """600 IMDB test reviews (every 40th, so both labels) as the data's own CSV (id, rating, label,
    text): requests within the batch limits, the verdicts the API's, and mostly right."""
    with gzip.open(imdb_data() / "test.csv.gz", "rt", encoding="utf-8", newline="") as source:
        header, *reviews = csv.reader(source)
    records = [header, *reviews[::40][:600]]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(records)
    bodies: list[dict] = []
    page.on("request", lambda request: bodies.append(request.post_data_json)
            if "/api/sentiment" in request.url else None)
    upload(page, "test.csv", buffer.getvalue().encode(), "text/csv")
    texts = [record[3] for record in records[1:]]
    assert_results(page, app, list(range(1, 601)), texts)
    batch = constant(page, "batches.js", "BATCH_REVIEWS")
    assert [len(body["instances"]) for body in bodies] == [min(batch, 600 - start) for start in range(0, 600, batch)]
    labels = [row[2] for row in table(page)]
    right = sum((label == "POSITIVE") == (record[2] == "1") for label, record in zip(labels, records[1:]))
    assert right / 600 > 0.85


def three_batches(batch: int) -> list[str]:
    """Distinct short reviews, enough for three requests of ``batch`` (the last a small one)."""
    return [f"{MIXED_REVIEWS[i % len(MIXED_REVIEWS)]} ({i})" for i in range(2 * batch + 10)]


def test_progress_while_batches_run(page: sync_api.Page, app: ServedApp) -> None:
    """The batch requests are held in the browser so the progress can be seen, then let through."""
    batch = constant(page, "batches.js", "BATCH_REVIEWS")
    texts = three_batches(batch)
    held: list[sync_api.Route] = []
    page.route(API_ROUTE, lambda route: held.append(route))
    page.fill("#batch-text", "\n".join(texts))
    page.click("#batch-submit")
    status = page.locator("#batch-status")
    sync_api.expect(status).to_have_text(f"0 of {len(texts)} reviews analysed…")
    sync_api.expect(page.locator("#batch-submit")).to_be_disabled()
    sync_api.expect(page.locator("#batch-file")).to_be_disabled()
    wait_until(page, lambda: len(held) == 3)  # every batch in flight at once (IN_FLIGHT allows it)
    held[0].continue_()
    sync_api.expect(status).to_have_text(f"{batch} of {len(texts)} reviews analysed…")
    assert page.eval_on_selector("#batch-progress", "bar => [bar.value, bar.max]") == [batch, len(texts)]
    sync_api.expect(page.locator("#batch-result")).to_be_hidden()
    for route in held[1:]:
        route.continue_()
    wait_for_results(page)
    sync_api.expect(page.locator("#batch-progress-row")).to_be_hidden()
    assert_results(page, app, list(range(1, len(texts) + 1)), texts)


def test_throttled_batches_are_retried(page: sync_api.Page, app: ServedApp) -> None:
    """The API answers 429 to the first two batch requests, once with Retry-After: 1; the page waits
    (at least the second asked for) and retries both, and every review gets its verdict."""
    texts = three_batches(constant(page, "batches.js", "BATCH_REVIEWS"))
    seen: list[tuple[float, str]] = []

    def throttle(route: sync_api.Route) -> None:
        if route.request.method != "POST":
            return route.continue_()
        first = json.loads(route.request.post_data)["instances"][0]
        seen.append((time.monotonic(), first))
        if len(seen) == 1:
            return route.fulfill(status=429, json={"message": "Too Many Requests"}, headers={"Retry-After": "1"})
        if len(seen) == 2:
            return route.fulfill(status=429, json={"message": "Too Many Requests"})
        return route.continue_()

    page.route(API_ROUTE, throttle)
    page.fill("#batch-text", "\n".join(texts))
    page.click("#batch-submit")
    wait_for_results(page)
    assert_results(page, app, list(range(1, len(texts) + 1)), texts)
    assert len(seen) == 3 + 2  # three batches, two of them twice
    retried = next(at for at, first in seen[1:] if first == seen[0][1])
    assert retried - seen[0][0] >= 1.0  # Retry-After honoured


def test_a_spent_quota_stops_the_run(page: sync_api.Page) -> None:
    """429 "Limit Exceeded" (the key's daily quota) will not pass by waiting: no retry, a clear error."""
    calls: list[str] = []

    def quota(route: sync_api.Route) -> None:
        calls.append(route.request.url)
        route.fulfill(status=429, json={"message": "Limit Exceeded"})

    page.route(API_ROUTE, quota)
    page.fill("#batch-text", "\n".join(three_batches(constant(page, "batches.js", "BATCH_REVIEWS"))))
    page.click("#batch-submit")
    sync_api.expect(page.locator("#batch-error")).to_contain_text("error 429): Limit Exceeded")
    sync_api.expect(page.locator("#batch-submit")).to_be_enabled()
    assert 1 <= len(calls) <= 3  # each batch at most once
    sync_api.expect(page.locator("#batch-result")).to_be_hidden()


def test_a_bad_review_fails_alone(page: sync_api.Page, app: ServedApp) -> None:
    """A NUL byte makes the API refuse the whole batch; the page splits it until that review is alone."""
    lines = [POSITIVE, NEGATIVE, "A fine\x00 film", *MIXED_REVIEWS[2:]]
    upload(page, "reviews.txt", "\n".join(lines).encode(), "text/plain")
    shown = table(page)
    assert shown[2][2].startswith("Not analysed:") and "NUL" in shown[2][2] and shown[2][3] == ""
    good = [line for line in lines if "\x00" not in line]
    assert [cells[2] for cells in shown if cells[0] != "3"] == [v["label"].upper() for v in api_verdicts(app, good)]
    sync_api.expect(page.locator("#batch-summary")).to_contain_text("; 1 could not be analysed")
    results = downloaded(page)
    assert "NUL" in results[2]["error"] and results[2]["label"] == "" and not results[0]["error"]


@pytest.mark.parametrize("action, message", [
    (lambda page: page.click("#batch-submit"), "Paste some reviews first"),
    (lambda page: page.set_input_files("#batch-file", files=[
        {"name": "r.csv", "mimeType": "text/csv", "buffer": b"id,comment\n1,good\n"}]),
     "needs a column named text or review in its first line (it has: id, comment)"),
    (lambda page: page.set_input_files("#batch-file", files=[
        {"name": "r.txt", "mimeType": "text/plain", "buffer": b"\n \n"}]), "r.txt holds no reviews"),
], ids=["nothing-pasted", "csv-without-text-column", "blank-file"])
def test_nothing_to_analyse_is_explained(page: sync_api.Page, action: Any, message: str) -> None:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url) if "/api/" in request.url else None)
    action(page)
    sync_api.expect(page.locator("#batch-error")).to_contain_text(message)
    assert not requests
