"""Each sentence's verdict over real HTTP: the endpoint's /invocations, InvokeEndpoint, and the
page's route through the local API Gateway and the Lambda function (``?sentences=true``)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sentiment_app.artifacts.locate import bundled_model_dir
from sentiment_app.gateway.api.local_api import create_app as gateway_app
from sentiment_app.serving.app import create_app
from tests.support import running

NAME = "sentences-test"
MIXED = "The acting was wonderful and moving. The plot was a dull, stupid mess."


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with running(create_app(bundled_model_dir(), endpoint_name=NAME)) as base:
        yield base


def test_the_endpoint_answers_each_sentence(url: str) -> None:
    reply = httpx.post(f"{url}/invocations", json={"review": MIXED, "sentences": True}, timeout=60)
    assert reply.status_code == 200, reply.text
    answer = reply.json()
    assert [s["label"] for s in answer["sentences"]] == ["positive", "negative"] and "words" not in answer
    both = httpx.post(f"{url}/explanations", json={"review": MIXED, "sentences": True}, timeout=60).json()
    assert both["sentences"] == answer["sentences"] and both["words"]


def test_sentences_of_a_batch_are_refused(url: str) -> None:
    reply = httpx.post(f"{url}/explanations", json={"instances": [MIXED, MIXED]}, timeout=60)
    assert reply.status_code == 400 and "one review" in reply.json()["error"]


def test_the_page_route_forwards_sentences(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"ENDPOINT_NAME": NAME, "SAGEMAKER_RUNTIME_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "x",
                        "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)  # what `sentiment-app serve` sets for the Lambda function
    with running(gateway_app()) as gateway:
        plain = httpx.post(f"{gateway}/api/sentiment", content=MIXED, timeout=60).json()
        assert "sentences" not in plain
        answer = httpx.post(f"{gateway}/api/sentiment?sentences=true&explain=true", content=MIXED, timeout=60).json()
        assert answer["probability"] == plain["probability"] and answer["words"]
        assert [(MIXED[s["start"]:s["end"]], s["label"]) for s in answer["sentences"]] == [
            ("The acting was wonderful and moving.", "positive"), ("The plot was a dull, stupid mess.", "negative")]
        batch = httpx.post(f"{gateway}/api/sentiment?sentences=true", json={"instances": [MIXED]}, timeout=60)
        assert batch.status_code == 400 and "one review at a time" in batch.json()["message"]
