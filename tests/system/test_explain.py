"""Explanations (``POST /explanations``): the words behind a verdict, on the bundled model, over real
HTTP; the same through InvokeEndpoint and the whole chain the page uses. (Without a server, the
SageMaker handler and the word cap: ``tests/unit/test_explain.py``.)"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import boto3
import httpx
import pytest

from sentiment_app.artifacts.locate import bundled_model_dir
from sentiment_app.gateway.api.local_api import create_app as gateway_app
from sentiment_app.inference.explain import MAX_CHARS, without
from sentiment_app.inference.model import SentimentModel
from sentiment_app.serving.app import create_app
from tests.support import NEGATIVE, NEGATIVE_WORDS, POSITIVE, POSITIVE_WORDS, running

NAME = "explain-test"
MIXED = "The photography is beautiful<br /><br />but the script is a mess and the ending made no sense."
MAX_PAYLOAD = 1024 * 1024


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with running(create_app(bundled_model_dir(), endpoint_name=NAME, max_payload_bytes=MAX_PAYLOAD)) as base:
        yield base


def explain(url: str, body: bytes | str, content_type: str = "text/plain", accept: str = "application/json",
            path: str = "/explanations") -> httpx.Response:
    return httpx.post(f"{url}{path}", content=body, headers={"Content-Type": content_type, "Accept": accept},
                      timeout=60)


def check_offsets(review: str, words: list[dict]) -> None:
    for item in words:
        assert review[item["start"]:item["end"]].lower() == item["word"]
        assert [item["start"], item["end"]] == item["spans"][0]
        for start, end in item["spans"]:
            assert review[start:end].lower() == item["word"]


def test_positive_review_is_explained_by_its_praise(url: str, model: SentimentModel) -> None:
    reply = explain(url, POSITIVE)
    assert reply.status_code == 200, reply.text
    answer = reply.json()
    assert answer["label"] == "positive" and answer["truncated"] is False
    assert answer["probability"] == pytest.approx(float(model.predict_proba([POSITIVE])[0]), abs=1e-5)
    top = max(answer["words"], key=lambda item: item["weight"])
    assert top["word"] in POSITIVE_WORDS and top["weight"] > 0
    weights = [abs(item["weight"]) for item in answer["words"]]
    assert weights == sorted(weights, reverse=True)
    check_offsets(POSITIVE, answer["words"])


def test_negative_review_is_explained_by_its_complaints(url: str) -> None:
    answer = explain(url, json.dumps({"review": NEGATIVE}), "application/json").json()
    assert answer["label"] == "negative"
    bottom = min(answer["words"], key=lambda item: item["weight"])
    assert bottom["word"] in NEGATIVE_WORDS and bottom["weight"] < 0
    check_offsets(NEGATIVE, answer["words"])


def test_weights_are_signed_occlusion_differences(url: str, model: SentimentModel) -> None:
    answer = explain(url, MIXED).json()
    weights = {item["word"]: item["weight"] for item in answer["words"]}
    assert min(weights.values()) < 0 < max(weights.values())
    full = float(model.predict_proba([MIXED])[0])
    for item in answer["words"][:3]:
        spans = [tuple(span) for span in item["spans"]]
        alone = float(model.predict_proba([without(MIXED, spans)])[0])
        assert item["weight"] == pytest.approx(full - alone, abs=1e-5)
    assert "br" not in weights  # markup is not a word of the review
    check_offsets(MIXED, answer["words"])


def test_offsets_count_code_points_in_the_original_text(url: str) -> None:
    review = "🎬 Ein wunderbarer Film: brilliant acting, and the ending is wonderful. Brilliant!"
    answer = explain(url, review.encode("utf-8")).json()
    check_offsets(review, answer["words"])
    brilliant = next(item for item in answer["words"] if item["word"] == "brilliant")
    assert len(brilliant["spans"]) == 2


def test_a_huge_review_is_explained_in_bounded_time(url: str) -> None:
    review = "A wonderful film, the cast is brilliant and every scene is gripping. " * 12_000  # ~130,000 words
    started = time.monotonic()
    reply = explain(url, review)
    assert reply.status_code == 200, reply.text
    assert time.monotonic() - started < 30
    answer = reply.json()
    assert answer["truncated"] is True
    assert all(end <= MAX_CHARS for item in answer["words"] for _, end in item["spans"])
    check_offsets(review, answer["words"])


def test_invocations_with_explain_and_invoke_endpoint_agree(url: str) -> None:
    direct = explain(url, POSITIVE).json()
    body = json.dumps({"review": POSITIVE, "explain": True})
    assert explain(url, body, "application/json", path="/invocations").json() == direct
    runtime = boto3.client("sagemaker-runtime", endpoint_url=url, region_name="us-east-1",
                           aws_access_key_id="x", aws_secret_access_key="x")
    reply = runtime.invoke_endpoint(EndpointName=NAME, ContentType="application/json", Body=body)
    assert json.loads(reply["Body"].read()) == direct


@pytest.mark.parametrize("body, content_type, accept, status, words", [
    ("   ", "text/plain", "application/json", 400, "empty"),
    (b"\xff\xfe bad", "text/plain", "application/json", 400, "UTF-8"),
    ("<review/>", "application/xml", "application/json", 415, "content type"),
    (json.dumps({"instances": [POSITIVE, NEGATIVE]}), "application/json", "application/json", 400, "one review"),
    (f"{POSITIVE}\n{NEGATIVE}", "text/csv", "application/json", 400, "one review"),
    (json.dumps({"review": POSITIVE, "explain": "yes"}), "application/json", "application/json", 400, "explain"),
    (POSITIVE, "text/plain", "text/plain", 406, "application/json"),
    ("x" * (MAX_PAYLOAD + 1), "text/plain", "application/json", 413, "exceeds"),
], ids=["empty", "utf8", "content-type", "instances", "csv", "flag", "accept", "too-large"])
def test_bad_requests_get_json_errors(url: str, body: bytes | str, content_type: str, accept: str, status: int,
                                      words: str) -> None:
    reply = explain(url, body, content_type, accept)
    assert reply.status_code == status
    assert words in reply.json()["error"]


def test_the_page_route_forwards_explanations(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Page's route → local API Gateway → Lambda handler → boto3 → endpoint, with ``?explain=true``;
    without it, the answer stays the verdict alone."""
    for name, value in {"ENDPOINT_NAME": NAME, "SAGEMAKER_RUNTIME_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "x",
                        "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)  # what `sentiment-app serve` sets for the Lambda function
    with running(gateway_app()) as gateway:
        plain = httpx.post(f"{gateway}/api/sentiment", content=POSITIVE, timeout=60)
        assert plain.status_code == 200 and "words" not in plain.json()
        reply = httpx.post(f"{gateway}/api/sentiment?explain=true", content=POSITIVE, timeout=60)
        assert reply.status_code == 200, reply.text
        answer = reply.json()
        assert answer["label"] == "positive" and answer["truncated"] is False
        check_offsets(POSITIVE, answer["words"])
        empty = httpx.post(f"{gateway}/api/sentiment?explain=true", content=" ", timeout=60)
        assert empty.status_code == 400 and "empty" in empty.json()["message"]
