"""Benchmark: many reviews through the web page's file analysis, in a real browser.

    python bench/page.py [--reviews 10000] [--runs 3] [--data DIR] [--model DIR]

Starts ``sentiment-app serve`` (gateway, Lambda function, endpoint on free loopback ports), writes
``--reviews`` real test reviews (a seeded, label-balanced sample; the built-in ones repeated when
there is no IMDB data) as a CSV with a ``text`` column, and in Debian's chromium (Playwright) uploads
it on the page ``--runs`` times. Prints one row per run: seconds from choosing the file until the
table, summary and download are shown, the page's own figure (its "Analysed in"), reviews per
second, the API requests the page made and how many the API answered with 429.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from serving import FALLBACK_REVIEWS, SEED, running
from sentiment_app.artifacts.locate import bundled_model_dir
from sentiment_app.data.dataset import load_imdb, stratified_sample
from sentiment_app.errors import SentimentAppError
from sentiment_app.serving.lifecycle import HOST, free_port
from sentiment_app.settings import load_settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]
PAGE_TIMEOUT_MS = 300_000


def reviews(data: Path | None, count: int) -> tuple[list[str], str]:
    """``count`` test reviews from ``data``, else the built-in reviews repeated."""
    try:
        if data is None:
            raise SentimentAppError("no data folder given")
        test = load_imdb(data)["test"]
        texts = stratified_sample(test, min(count, len(test.texts)), SEED).texts
        texts = (texts * (count // len(texts) + 1))[:count]
        return texts, f"{count} test reviews from {data}"
    except SentimentAppError:
        texts = (list(FALLBACK_REVIEWS) * (count // len(FALLBACK_REVIEWS) + 1))[:count]
        return texts, f"{count} built-in reviews ({data} has no IMDB data)"


def write_csv(path: Path, texts: list[str]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "text"])
        writer.writerows(enumerate(texts, 1))
    return path


def run_page(url: str, upload: Path, runs: int) -> list[tuple[float, float, int, int]]:
    """Per run: (seconds until the results show, the page's own seconds, API requests, 429 answers)."""
    from playwright.sync_api import expect, sync_playwright

    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for _ in range(runs):
                page = browser.new_page()
                statuses: list[int] = []
                page.on("response", lambda response: statuses.append(response.status)
                        if response.url.endswith("/api/sentiment") else None)
                page.goto(url)
                started = time.perf_counter()
                page.set_input_files("#batch-file", upload)
                expect(page.locator("#batch-result")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
                wall = time.perf_counter() - started
                own = float(re.search(r"([\d.]+) s", page.inner_text("#batch-time")).group(1))
                rows.append((wall, own, len(statuses), statuses.count(429)))
                page.close()
        finally:
            browser.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=10_000, help="reviews in the uploaded file")
    parser.add_argument("--runs", type=int, default=3, help="uploads, each in a fresh page")
    parser.add_argument("--model", type=Path, default=bundled_model_dir(), help="model to serve [bundled default]")
    parser.add_argument("--data", type=Path, default=load_settings().data,
                        help="IMDB data for the reviews [SENTIMENT_APP_DATA]")
    args = parser.parse_args()
    if args.reviews < 1 or args.runs < 1:
        parser.error("--reviews and --runs must be at least 1")
    if not Path(CHROMIUM).exists():
        sys.exit(f"Debian chromium is needed at {CHROMIUM} (apt-get install chromium)")
    texts, where = reviews(args.data, args.reviews)
    print(f"{datetime.now().astimezone().isoformat(timespec='seconds')}; {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}; {where}; model {args.model}")
    with tempfile.TemporaryDirectory(prefix="sa-bench-page-") as tmp:
        work = Path(tmp)
        upload = write_csv(work / "reviews.csv", texts)
        port, endpoint_port = free_port(HOST), free_port(HOST)
        url = f"http://{HOST}:{port}/"
        command = [sys.executable, "-m", "sentiment_app", "serve", "--home", str(work / "home"),
                   "--model", str(args.model), "--host", HOST, "--port", str(port),
                   "--endpoint-port", str(endpoint_port)]
        with running(command, f"{url}config.js", work / "stack.log"):
            rows = run_page(url, upload, args.runs)
    print("\n| run | reviews | s until shown | page's s | reviews/s | API requests | 429s |")
    print("|---|---|---|---|---|---|---|")
    for number, (wall, own, requests, throttled) in enumerate(rows, 1):
        print(f"| {number} | {args.reviews} | {wall:.1f} | {own:.1f} | {args.reviews / wall:.0f} | {requests} "
              f"| {throttled} |")


if __name__ == "__main__":
    main()
