"""Feedback end to end: ``serve`` with Data Capture and API keys answers each review with an inference
id, takes feedback on it (keys and all), ``feedback export`` joins the feedback to the captured reviews,
and ``train --extra-data`` fits a model on them, recorded on its registry version."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from sentiment_app.pipeline import extra_reviews
from tests.serving_support import create_key, served_app
from tests.support import cli_in_home

pytestmark = pytest.mark.slow
REVIEWS = [("An absolute gem: funny, warm and beautifully acted.", "positive"),
           ("Not bad at all, I expected far worse.", "positive"),  # a negated negative, often misread
           ("Two hours of my life I will never get back.", "negative"),
           ("The plot makes no sense and the acting is wooden.", "negative")]


def test_feedback_on_answers_becomes_training_data(tmp_path: Path, real_data: Path) -> None:
    home = tmp_path / "home"
    key = create_key(home, "tester")
    with served_app(home, "--capture-percent", "100", "--require-api-key") as app:
        ids = []
        for review, truth in REVIEWS:
            answer = httpx.post(f"{app.url}/api/sentiment", content=review, headers={"x-api-key": key}, timeout=60)
            assert answer.status_code == 200, answer.text
            ids.append(answer.json()["inference_id"])
            given = httpx.post(f"{app.url}/api/feedback", json={"inference_id": ids[-1], "label": truth},
                               headers={"x-api-key": key}, timeout=60)
            assert given.status_code == 202 and given.json() == {"inference_id": ids[-1], "label": truth}
        assert len(set(ids)) == len(REVIEWS)
        keyless = httpx.post(f"{app.url}/api/feedback", json={"inference_id": ids[0], "label": "negative"}, timeout=60)
        assert keyless.status_code == 403  # the API's keys guard the feedback route too
        wrong = httpx.post(f"{app.url}/api/feedback", json={"inference_id": ids[0], "label": "meh"},
                           headers={"x-api-key": key}, timeout=60)
        assert wrong.status_code == 400 and "positive" in wrong.json()["message"]
        preflight = httpx.options(f"{app.url}/api/feedback", headers={"Origin": "https://example.com",
                                                                      "Access-Control-Request-Method": "POST"})
        assert preflight.status_code == 204  # no key needed for a preflight
    stored = sorted((home / "store" / "feedback" / "local-sentiment").rglob("*.json"))
    assert sorted(path.stem for path in stored) == sorted(ids)

    output = tmp_path / "feedback.csv"
    done = cli_in_home(home, "feedback", "export", "--output", str(output), "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout.splitlines()[-1])["joined"] == len(REVIEWS)  # capture published at shutdown
    extra = extra_reviews(output)
    assert sorted(zip(extra.texts, extra.labels.tolist())) == sorted(
        (review, int(truth == "positive")) for review, truth in REVIEWS)

    trained = cli_in_home(home, "train", "--family", "nbsvm", "--max-reviews", "1000", "--data", str(real_data),
                          "--extra-data", str(output))
    assert trained.exit_code == 0, trained.output
    assert f"with {len(REVIEWS)} extra reviews" in trained.stdout
    version = json.loads(cli_in_home(home, "models", "describe", "1", "--json").stdout)
    assert version["extra_data"]["rows"] == len(REVIEWS)
    metrics = json.loads((Path(version["model_dir"]) / "metrics.json").read_text())
    assert metrics["train_rows"] + metrics["validation_rows"] == 1000 + len(REVIEWS)
    assert metrics["extra_data"] == version["extra_data"]
