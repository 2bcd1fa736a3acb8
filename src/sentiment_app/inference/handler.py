"""SageMaker PyTorch inference handler: ``model_fn``, ``input_fn``, ``predict_fn``, ``output_fn``.

Usable unchanged as ``code/inference.py`` of a ``model.tar.gz`` (the archive's ``inference.py``
re-exports these). Request content types: ``text/plain`` (one raw review, as the original web app
sends), ``application/json`` (``{"review": "..."}`` or ``{"instances": ["...", ...]}``) and
``text/csv`` (one review per line). Replies: the original bare ``1.0``/``0.0`` for ``text/plain``;
JSON with label, probability of positive and model version for ``application/json``.
``{"review": "...", "explain": true}`` also asks which words made the verdict (``explain.py``),
``"sentences": true`` the verdict of each of its sentences (``sentences.py``).
Refusals are :class:`InferenceError`, which carries its HTTP status (400, 406, 415); inside SageMaker's
serving containers it is the inference toolkit's ``GenericInferenceToolkitError``, so the container
answers that status instead of a 500.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sentiment_app.wire import LABELS, MAX_REVIEWS
from sentiment_app.inference.explain import Explanation, Occlusion, occlude
from sentiment_app.inference.sentences import sentence_spans

if TYPE_CHECKING:
    from sentiment_app.inference.model import SentimentModel

try:  # present in SageMaker's serving containers, whose model server maps it to its status
    from sagemaker_inference.errors import GenericInferenceToolkitError as _ToolkitError
except ImportError:  # the local endpoint maps InferenceError itself
    _ToolkitError = Exception  # type: ignore[assignment,misc]

JSON, TEXT, CSV = "application/json", "text/plain", "text/csv"
REQUEST_TYPES = (TEXT, JSON, CSV)
RESPONSE_TYPES = (JSON, TEXT)
DEFAULT_ACCEPT = JSON
_SURROGATE = re.compile("[\ud800-\udfff]")


class InferenceError(_ToolkitError):
    """A request the handler refuses; ``status_code`` is the HTTP answer, ``message`` its text
    (``phrase`` the reason phrase, as the toolkit's error has it)."""

    def __init__(self, status_code: int, message: str) -> None:
        Exception.__init__(self, message)
        self.status_code = status_code
        self.message = message
        self.phrase = message


@dataclass(frozen=True)
class Reviews:
    """Decoded request: the review texts, whether the caller sent just one, and whether it asks
    for an explanation and for each sentence's verdict (both only for one review)."""

    texts: list[str]
    single: bool
    explain: bool = False
    sentences: bool = False


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    probability: float


@dataclass(frozen=True)
class Prediction:
    probabilities: np.ndarray
    single: bool
    model_version: str
    explanation: Explanation | None = None
    sentences: list[Sentence] | None = None


@dataclass(frozen=True)
class Plan:
    """Every text one request needs scored, for one model call (batched with others by the
    endpoint), and how to read the scores back: the reviews, or the occlusion variants of an
    explained review; then, when asked, the review's sentences."""

    texts: list[str]
    single: bool
    occlusion: Occlusion | None
    spans: list[tuple[int, int]] | None

    def prediction(self, probabilities: np.ndarray, model_version: str) -> Prediction:
        scored = len(self.texts) - len(self.spans or ())
        sentences = None if self.spans is None else [
            Sentence(start, end, float(p)) for (start, end), p in zip(self.spans, probabilities[scored:])]
        if self.occlusion is None:
            return Prediction(probabilities[:scored], self.single, model_version, sentences=sentences)
        explanation = self.occlusion.explain(probabilities[:scored])
        return Prediction(np.array([explanation.probability]), True, model_version, explanation, sentences)


def plan(reviews: Reviews) -> Plan:
    """What to score for ``reviews`` (an explanation costs a text per distinct word: CPU work)."""
    if (reviews.explain or reviews.sentences) and not reviews.single:
        raise InferenceError(400, 'Explanations and sentences are for one review: send it as text/plain or JSON '
                                  '{"review": "..."}.')
    occlusion = occlude(reviews.texts[0]) if reviews.explain else None
    texts = occlusion.texts if occlusion is not None else list(reviews.texts)
    spans = sentence_spans(reviews.texts[0]) if reviews.sentences else None
    return Plan(texts + [reviews.texts[0][a:b] for a, b in spans or ()], reviews.single, occlusion, spans)


def media_type(header: str | None) -> str:
    """``"text/plain; charset=UTF-8"`` → ``"text/plain"``."""
    return (header or "").split(";", 1)[0].strip().lower()


def model_fn(model_dir: str) -> SentimentModel:
    from sentiment_app.inference.model import SentimentModel  # here: the gateway reads this module without torch

    return SentimentModel.load(model_dir)  # type: ignore[arg-type]


def _text(body: bytes | str) -> str:
    if isinstance(body, str):
        return body
    try:
        return bytes(body).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InferenceError(400, f"The request body is not valid UTF-8 (byte {exc.start}).") from exc


def _checked(texts: list[Any], single: bool, explain: bool = False, sentences: bool = False) -> Reviews:
    if not texts:
        raise InferenceError(400, "No review given.")
    if len(texts) > MAX_REVIEWS:
        raise InferenceError(400, f"At most {MAX_REVIEWS} reviews per request, got {len(texts)}.")
    for i, text in enumerate(texts):
        where = "The review" if single else f"Review {i}"
        if not isinstance(text, str):
            raise InferenceError(400, f"{where} must be a string.")
        if "\x00" in text:
            raise InferenceError(400, f"{where} contains a NUL byte.")
        if not text.isascii() and _SURROGATE.search(text):  # JSON's "\ud800" escape: no UTF-8 can hold it
            raise InferenceError(400, f"{where} holds a lone surrogate (\\ud800-\\udfff), which is not text.")
        if not text.strip():
            raise InferenceError(400, f"{where} is empty.")
    return Reviews(texts, single, explain, sentences)


def csv_records(body: str) -> list[str]:
    """The records of a ``text/csv`` body. They end at "\n" only, as a transform job's
    SplitType=Line cuts them (a review may hold U+0085 or U+2028), so answers line up with records;
    a blank line inside the body stays a record (refused like an empty instance); only the final
    newline ends the body."""
    body = body.rstrip("\r\n")
    return [line.removesuffix("\r") for line in body.split("\n")] if body else []


def input_fn(request_body: bytes | str, request_content_type: str | None) -> Reviews:
    kind = media_type(request_content_type)
    if kind == TEXT:
        return _checked([_text(request_body)], single=True)
    if kind == CSV:
        return _checked(csv_records(_text(request_body)), single=False)
    if kind == JSON:
        try:
            data = json.loads(_text(request_body))
        except ValueError as exc:
            raise InferenceError(400, f"Malformed JSON: {exc}") from exc
        except RecursionError as exc:  # thousands of nested brackets exhaust the parser's stack
            raise InferenceError(400, "Malformed JSON: nested too deeply.") from exc
        if isinstance(data, dict) and "review" in data:
            for flag in ("explain", "sentences"):
                if not isinstance(data.get(flag, False), bool):
                    raise InferenceError(400, f'"{flag}" must be true or false.')
            return _checked([data["review"]], single=True, explain=data.get("explain", False),
                            sentences=data.get("sentences", False))
        if isinstance(data, dict) and isinstance(data.get("instances"), list):
            return _checked(data["instances"], single=False)
        raise InferenceError(400, 'JSON must be {"review": "..."} or {"instances": ["...", ...]}.')
    raise InferenceError(415, f"Unsupported content type {request_content_type!r}; use one of {', '.join(REQUEST_TYPES)}.")


def predict_fn(input_object: Reviews, model: SentimentModel) -> Prediction:
    planned = plan(input_object)
    return planned.prediction(model.predict_proba(planned.texts), model.version)


def negotiate(accept: str | None) -> str:
    """The first supported type in ``Accept`` (comma-split, no q-values, as the toolkit does)."""
    wanted = [media_type(part) for part in (accept or "").split(",") if part.strip()]
    if not wanted or wanted == ["*/*"]:
        return DEFAULT_ACCEPT
    for kind in wanted:
        if kind in RESPONSE_TYPES:
            return kind
        if kind in ("*/*", "application/*"):
            return DEFAULT_ACCEPT
    raise InferenceError(406, f"Unsupported accept type {accept!r}; use one of {', '.join(RESPONSE_TYPES)}.")


def label(probability: float) -> str:
    return LABELS[int(probability >= 0.5)]


def verdict(probability: float) -> dict[str, Any]:
    return {"label": label(probability), "probability": round(float(probability), 6)}


def output_fn(prediction: Prediction, accept: str | None) -> tuple[str, str]:
    kind = negotiate(accept)
    extras: dict[str, Any] = {}
    if prediction.explanation is not None:
        extras.update(truncated=prediction.explanation.truncated,
                      words=[word.to_json() for word in prediction.explanation.words])
    if prediction.sentences is not None:
        extras["sentences"] = [{"start": s.start, "end": s.end, **verdict(s.probability)} for s in prediction.sentences]
    if extras and kind != JSON:
        raise InferenceError(406, f"Explanations and sentences are answered as {JSON} only.")
    probabilities = [float(p) for p in prediction.probabilities]
    if kind == TEXT:
        return "\n".join("1.0" if p >= 0.5 else "0.0" for p in probabilities), TEXT
    if prediction.single:
        return json.dumps({**verdict(probabilities[0]), "model_version": prediction.model_version, **extras}), JSON
    return json.dumps({"predictions": [verdict(p) for p in probabilities],
                       "model_version": prediction.model_version}), JSON
