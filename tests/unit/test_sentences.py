"""A review cut into sentence spans, and the handler's verdict per sentence (no server)."""

from __future__ import annotations

import json

import pytest

from sentiment_app.inference.handler import InferenceError, input_fn, output_fn, predict_fn
from sentiment_app.inference.model import SentimentModel
from sentiment_app.inference.sentences import MAX_CHARS, MAX_SENTENCES, sentence_spans


@pytest.mark.parametrize("review, expected", [
    ("Not bad at all. The acting was never boring, though the ending dragged.",
     ["Not bad at all.", "The acting was never boring, though the ending dragged."]),
    ("One.<br /><br />Two!! Three? four", ["One.", "Two!!", "Three?", "four"]),
    ("A film\nwith lines.  And more...  ok", ["A film", "with lines.", "And more...", "ok"]),
    ("Rated 3.5/10. Meh", ["Rated 3.5/10.", "Meh"]),
    ("   ", []),
    ("... !!! ?", []),
    ("Great", ["Great"]),
])
def test_sentences_are_places_in_the_review(review: str, expected: list[str]) -> None:
    assert [review[a:b] for a, b in sentence_spans(review)] == expected


def test_the_work_is_bounded() -> None:
    assert len(sentence_spans("Fine. " * 1000)) == MAX_SENTENCES
    assert sentence_spans("x" * (MAX_CHARS + 50)) == [(0, MAX_CHARS)]


def test_the_handler_gives_each_sentence_a_verdict_with_the_overall_one(model: SentimentModel) -> None:
    review = "The acting was wonderful and moving. The plot was a dull, stupid mess."
    asked = input_fn(json.dumps({"review": review, "sentences": True, "explain": True}), "application/json")
    answer = json.loads(output_fn(predict_fn(asked, model), "application/json")[0])
    plain = json.loads(output_fn(predict_fn(input_fn(review, "text/plain"), model), "application/json")[0])
    assert answer["probability"] == plain["probability"] and answer["words"]
    assert [(review[s["start"]:s["end"]], s["label"]) for s in answer["sentences"]] == [
        ("The acting was wonderful and moving.", "positive"), ("The plot was a dull, stupid mess.", "negative")]
    alone = model.predict_proba(["The plot was a dull, stupid mess."])[0]
    assert answer["sentences"][1]["probability"] == pytest.approx(float(alone), abs=1e-6)


def test_a_sentences_flag_that_is_not_a_boolean_is_400() -> None:
    with pytest.raises(InferenceError, match='"sentences" must be true or false') as caught:
        input_fn(json.dumps({"review": "Good.", "sentences": "yes"}), "application/json")
    assert caught.value.status_code == 400


def test_sentences_are_answered_as_json_only(model: SentimentModel) -> None:
    asked = input_fn(json.dumps({"review": "Good. Bad.", "sentences": True}), "application/json")
    with pytest.raises(InferenceError) as caught:
        output_fn(predict_fn(asked, model), "text/plain")
    assert caught.value.status_code == 406
