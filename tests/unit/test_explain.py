"""Explanations without a server: the SageMaker handler's explain flag and the cap on distinct words.
(Over HTTP and through the gateway: ``tests/system/test_explain.py``.)"""

from __future__ import annotations

import json

from sentiment_app.inference.explain import MAX_WORDS, occlude
from sentiment_app.inference.handler import input_fn, output_fn, predict_fn
from sentiment_app.inference.model import SentimentModel
from tests.support import POSITIVE, POSITIVE_WORDS


def test_distinct_words_are_capped() -> None:
    review = " ".join(f"word{i}" for i in range(3 * MAX_WORDS))
    occlusion = occlude(review)
    assert len(occlusion.words) == MAX_WORDS and len(occlusion.texts) == MAX_WORDS + 1


def test_the_sagemaker_handler_explains_too(model: SentimentModel) -> None:
    """``code/inference.py`` on a real SageMaker endpoint: the same JSON flag, no server of ours."""
    body = json.dumps({"review": POSITIVE, "explain": True})
    text, content_type = output_fn(predict_fn(input_fn(body, "application/json"), model), "application/json")
    answer = json.loads(text)
    assert content_type == "application/json" and answer["model_version"] == model.version
    assert max(answer["words"], key=lambda item: item["weight"])["word"] in POSITIVE_WORDS
