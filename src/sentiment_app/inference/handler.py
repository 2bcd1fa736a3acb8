"""SageMaker PyTorch inference handler: ``model_fn``, ``input_fn``, ``predict_fn``, ``output_fn``.

Usable unchanged as ``code/inference.py`` of a ``model.tar.gz`` (the archive's ``inference.py``
re-exports these). Request content types: ``text/plain`` (one raw review, as the original web app
sends), ``application/json`` (``{"review": "..."}`` or ``{"instances": ["...", ...]}``) and
``text/csv`` (one review per line). Replies: the original bare ``1.0``/``0.0`` for ``text/plain``;
JSON with label, probability of positive and model version for ``application/json``.
``{"review": "...", "explain": true}`` also asks which words made the verdict (``explain.py``).
Errors carry the HTTP status a SageMaker container would answer with (400, 406, 415).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from sentiment_app.inference.explain import Explanation, occlude
from sentiment_app.inference.model import SentimentModel

JSON, TEXT, CSV = "application/json", "text/plain", "text/csv"
REQUEST_TYPES = (TEXT, JSON, CSV)
RESPONSE_TYPES = (JSON, TEXT)
DEFAULT_ACCEPT = JSON
MAX_REVIEWS = 1000
MAX_INVOKE_BYTES = 6 * 1024 * 1024
"""InvokeEndpoint's body limit (6 MB), which applies whatever the container would accept."""


class InferenceError(Exception):
    """A request the handler refuses; ``status_code`` is the HTTP answer (as the toolkit's
    ``GenericInferenceToolkitError``)."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


@dataclass(frozen=True)
class Reviews:
    """Decoded request: the review texts, whether the caller sent just one, and whether it asks
    for an explanation (only for one review)."""

    texts: list[str]
    single: bool
    explain: bool = False


@dataclass(frozen=True)
class Prediction:
    probabilities: np.ndarray
    single: bool
    model_version: str
    explanation: Explanation | None = None


def media_type(header: str | None) -> str:
    """``"text/plain; charset=UTF-8"`` → ``"text/plain"``."""
    return (header or "").split(";", 1)[0].strip().lower()


def model_fn(model_dir: str) -> SentimentModel:
    return SentimentModel.load(model_dir)  # type: ignore[arg-type]


def _text(body: bytes | str) -> str:
    if isinstance(body, str):
        return body
    try:
        return bytes(body).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InferenceError(400, f"The request body is not valid UTF-8 (byte {exc.start}).") from exc


def _checked(texts: list[Any], single: bool, explain: bool = False) -> Reviews:
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
        if not text.strip():
            raise InferenceError(400, f"{where} is empty.")
    return Reviews(texts, single, explain)


def input_fn(request_body: bytes | str, request_content_type: str | None) -> Reviews:
    kind = media_type(request_content_type)
    if kind == TEXT:
        return _checked([_text(request_body)], single=True)
    if kind == CSV:
        # Answers line up with the lines (as a transform job's AssembleWith=Line needs): a blank line
        # inside the body is refused like an empty instance; only the final newline ends the body.
        return _checked(_text(request_body).rstrip("\r\n").splitlines(), single=False)
    if kind == JSON:
        try:
            data = json.loads(_text(request_body))
        except ValueError as exc:
            raise InferenceError(400, f"Malformed JSON: {exc}") from exc
        except RecursionError as exc:  # thousands of nested brackets exhaust the parser's stack
            raise InferenceError(400, "Malformed JSON: nested too deeply.") from exc
        if isinstance(data, dict) and "review" in data:
            if not isinstance(data.get("explain", False), bool):
                raise InferenceError(400, '"explain" must be true or false.')
            return _checked([data["review"]], single=True, explain=data.get("explain", False))
        if isinstance(data, dict) and isinstance(data.get("instances"), list):
            return _checked(data["instances"], single=False)
        raise InferenceError(400, 'JSON must be {"review": "..."} or {"instances": ["...", ...]}.')
    raise InferenceError(415, f"Unsupported content type {request_content_type!r}; use one of {', '.join(REQUEST_TYPES)}.")


def predict_fn(input_object: Reviews, model: SentimentModel) -> Prediction:
    if input_object.explain:
        occlusion = occlude(input_object.texts[0])
        return explained(occlusion.explain(model.predict_proba(occlusion.texts)), model.version)
    return Prediction(model.predict_proba(input_object.texts), input_object.single, model.version)


def explained(explanation: Explanation, model_version: str) -> Prediction:
    return Prediction(np.array([explanation.probability]), True, model_version, explanation)


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
    return "positive" if probability >= 0.5 else "negative"


def output_fn(prediction: Prediction, accept: str | None) -> tuple[str, str]:
    kind = negotiate(accept)
    if prediction.explanation is not None:
        return _explanation_json(prediction.explanation, prediction.model_version, kind)
    probabilities = [float(p) for p in prediction.probabilities]
    if kind == TEXT:
        return "\n".join("1.0" if p >= 0.5 else "0.0" for p in probabilities), TEXT
    results = [{"label": label(p), "probability": round(p, 6)} for p in probabilities]
    if prediction.single:
        return json.dumps({**results[0], "model_version": prediction.model_version}), JSON
    return json.dumps({"predictions": results, "model_version": prediction.model_version}), JSON


def _explanation_json(explanation: Explanation, model_version: str, kind: str) -> tuple[str, str]:
    if kind != JSON:
        raise InferenceError(406, f"Explanations are answered as {JSON} only.")
    p = explanation.probability
    return json.dumps({
        "label": label(p), "probability": round(p, 6), "model_version": model_version,
        "truncated": explanation.truncated, "words": [word.to_json() for word in explanation.words],
    }), JSON
