"""The SageMaker handler functions called directly, as the serving container calls them."""

from __future__ import annotations

import json

import pytest

from sentiment_app.wire import MAX_REVIEWS
from sentiment_app.inference.handler import InferenceError, input_fn, model_fn, output_fn, predict_fn
from sentiment_app.artifacts.locate import bundled_model_dir
from tests.support import NEGATIVE, POSITIVE


@pytest.fixture(scope="module")
def model():
    return model_fn(str(bundled_model_dir()))


def invoke(model, body: bytes | str, content_type: str, accept: str | None = "application/json") -> tuple[str, str]:
    return output_fn(predict_fn(input_fn(body, content_type), model), accept)


def test_text_plain_gives_the_original_bare_answer(model) -> None:
    assert invoke(model, POSITIVE.encode(), "text/plain", "text/plain") == ("1.0", "text/plain")
    assert invoke(model, NEGATIVE.encode(), "text/plain; charset=UTF-8", "text/plain") == ("0.0", "text/plain")


def test_json_single_review_gives_label_probability_and_version(model) -> None:
    body, kind = invoke(model, json.dumps({"review": POSITIVE}), "application/json")
    reply = json.loads(body)
    assert kind == "application/json" and reply["label"] == "positive" and 0.5 <= reply["probability"] <= 1
    assert reply["model_version"] == model.version and len(model.version) == 12


@pytest.mark.parametrize("content_type, body", [
    ("application/json", json.dumps({"instances": [POSITIVE, NEGATIVE]})),
    ("text/csv", f"{POSITIVE}\n{NEGATIVE}\n"),
])
def test_several_reviews_keep_their_order(model, content_type: str, body: str) -> None:
    reply = json.loads(invoke(model, body, content_type, "*/*")[0])
    assert [p["label"] for p in reply["predictions"]] == ["positive", "negative"]


def test_probabilities_match_the_model(model) -> None:
    reply = json.loads(invoke(model, POSITIVE.encode(), "text/plain")[0])
    assert reply["probability"] == pytest.approx(float(model.predict_proba([POSITIVE])[0]), abs=1e-6)


@pytest.mark.parametrize("body, content_type, status, words", [
    (b"", "text/plain", 400, "empty"),
    (b"   \n\t", "text/plain", 400, "empty"),
    (b"\xff\xfe bad", "text/plain", 400, "UTF-8"),
    (b"a\x00b", "text/plain", 400, "NUL"),
    ("{not json", "application/json", 400, "Malformed JSON"),
    (json.dumps({"text": "x"}), "application/json", 400, "review"),
    (json.dumps({"review": 5}), "application/json", 400, "string"),
    (json.dumps({"instances": []}), "application/json", 400, "No review"),
    (f"{POSITIVE}\n\n{NEGATIVE}\n", "text/csv", 400, "Review 1 is empty"),  # answers must line up with lines
    (b"\n", "text/csv", 400, "No review"),
    (b"x", "application/x-npy", 415, "Unsupported content type"),
    (b"x", None, 415, "Unsupported content type"),
])
def test_bad_requests_are_refused_with_the_right_status(body, content_type, status: int, words: str) -> None:
    with pytest.raises(InferenceError, match=words) as info:
        input_fn(body, content_type)
    assert info.value.status_code == status


def test_unsupported_accept_is_406_and_first_supported_type_wins(model) -> None:
    prediction = predict_fn(input_fn(POSITIVE.encode(), "text/plain"), model)
    with pytest.raises(InferenceError) as info:
        output_fn(prediction, "application/x-npy")
    assert info.value.status_code == 406
    assert output_fn(prediction, "application/x-npy, text/plain")[1] == "text/plain"


def test_long_html_and_non_ascii_reviews_are_scored(model) -> None:
    long_review = "<p>" + "a truly great film " * 30_000 + "</p>"
    for review in (long_review, "Ce film est magnifique 😀 שלום مرحبا", "<script>alert(1)</script> great"):
        reply = json.loads(invoke(model, review.encode(), "text/plain")[0])
        assert reply["label"] in ("positive", "negative") and 0 <= reply["probability"] <= 1


def test_csv_records_end_at_newline_only_as_a_transform_job_cuts_them() -> None:
    """U+0085, U+2028 and a lone CR are inside a record; only "\\n" (or "\\r\\n") ends one."""
    records = ["Great\x85film", "Dull\u2028plot", "carriage\rreturn", "windows line"]
    reviews = input_fn(("\n".join(records[:3]) + "\n" + records[3] + "\r\n").encode(), "text/csv")
    assert reviews.texts == records and not reviews.single


def test_the_review_count_cap_applies_to_every_request_shape() -> None:
    assert len(input_fn("\n".join(["fine film"] * MAX_REVIEWS), "text/csv").texts) == MAX_REVIEWS
    for body, kind in (("\n".join(["fine film"] * (MAX_REVIEWS + 1)), "text/csv"),
                       (json.dumps({"instances": ["fine film"] * (MAX_REVIEWS + 1)}), "application/json")):
        with pytest.raises(InferenceError) as refused:
            input_fn(body, kind)
        assert refused.value.status_code == 400 and f"At most {MAX_REVIEWS} reviews" in refused.value.message


@pytest.mark.parametrize("body", [r'{"review": "bad \ud800 film"}', r'{"instances": ["fine", "bad \udfff film"]}'])
def test_a_lone_surrogate_escape_is_refused_as_bad_input(body: str) -> None:
    with pytest.raises(InferenceError) as refused:
        input_fn(body.encode(), "application/json")
    assert refused.value.status_code == 400 and "surrogate" in refused.value.message


def test_refusals_are_the_inference_toolkits_own_error() -> None:
    """Inside SageMaker's container the toolkit answers a GenericInferenceToolkitError with its status."""
    from sagemaker_inference.errors import GenericInferenceToolkitError

    error = InferenceError(415, "Unsupported content type")
    assert isinstance(error, GenericInferenceToolkitError)
    assert (error.status_code, error.message, error.phrase) == (415, "Unsupported content type", "Unsupported content type")
