"""AWS Lambda function between API Gateway (proxy integration) and the SageMaker endpoint.

Deployable unchanged as ``lambda_function.lambda_handler``: it imports only the standard library and
boto3 (bundled in Lambda's Python runtimes), so this one file can be zipped alone.

Unlike the course original it accepts REST (1.0) and HTTP API (2.0) events, decodes base64 bodies,
takes the raw review (``text/*`` or no type; other types get 415), ``{"review": "..."}`` or a batch
``{"instances": ["...", ...]}`` (answered as ``predictions`` in order), answers CORS preflights, and turns
every failure into ``{"message": ...}`` with a fitting status instead of a bare API Gateway 502.
With the query parameter ``explain=true`` the answer also lists the words behind the verdict
(``words``: word, signed weight, character offsets), which the endpoint computes, and with
``sentences=true`` each sentence's verdict (``sentences``: character offsets, label, probability).
Every answer
carries an ``inference_id`` (a uuid4, passed to the endpoint as ``InferenceId`` so Data Capture
records it); ``POST`` on a path ending in ``/feedback`` with ``{"inference_id": ..., "label":
"positive"|"negative"}`` stores what the review really was, for retraining and monitoring.

Environment: ``ENDPOINT_NAME`` (required), ``SAGEMAKER_RUNTIME_ENDPOINT_URL`` (optional, e.g. a local
endpoint server; otherwise boto3's usual ``AWS_ENDPOINT_URL*`` resolution), ``CORS_ALLOW_ORIGIN``
(default ``*``, or an allow-list of origins separated by commas; see :func:`cors_headers`),
``FEEDBACK_LOCATION`` (where feedback goes: a folder or ``s3://bucket/prefix`` ending in
``feedback/<endpoint>``; unset, the feedback route answers 501).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import logging
import os
import re
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ReadTimeoutError
from botocore.exceptions import ConnectionError as BotoConnectionError

JSON_TYPE = "application/json"
ENDPOINT_URL_ENV = "SAGEMAKER_RUNTIME_ENDPOINT_URL"  # an endpoint URL of its own (a local endpoint server)
TEXT_TYPES = ("", "application/x-www-form-urlencoded")  # besides text/*: no type, and what `curl -d` sends
# Copies of sentiment_app.wire's (this file is zipped alone; tests/unit/test_wire_copies.py
# fails when they differ).
MAX_BODY_BYTES = 6 * 1024 * 1024  # InvokeEndpoint's and Lambda's synchronous payload limit
MAX_REVIEWS = 5000  # reviews per request
LABELS = ("negative", "positive")
FEEDBACK_ROUTE = "/api/feedback"
ALLOW_METHODS = "OPTIONS,POST"
ALLOW_HEADERS = "Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token"
BUSY_CODES = {"ModelNotReadyException", "ServiceUnavailable", "ThrottlingException"}
FEEDBACK_SHAPE = 'Send JSON {"inference_id": "<the id of the answer>", "label": "positive" or "negative"}.'
# API Gateway gives up after 29 s and the function after 30 s (infra/template.yaml): the connect and
# the read must end before either, so the function's own 504 reaches the caller
# (tests/unit/test_lambda_timeouts.py computes the worst case). One attempt: a retry would halve the
# time a slow model gets, and callers retry a busy answer (503) themselves, as the page does.
# A fixed User-Agent spares botocore rebuilding its standard one, twice, on every call.
CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=25, retries={"mode": "standard", "total_max_attempts": 1},
                       user_agent=f"sentiment-app-lambda Boto3/{boto3.__version__}")
# The container's refusals of the request itself, passed on to the caller with the model's message.
REFUSALS = frozenset({400, 413, 415})

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)


class HttpError(Exception):
    """Ends the request with ``status`` and ``{"message": message}``; ``detail`` only goes to the log."""

    def __init__(self, status: int, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.detail = detail or message


@functools.cache
def runtime_client(endpoint_url: str | None) -> Any:
    """One client per endpoint URL, created on first use and reused by warm invocations."""
    return boto3.client("sagemaker-runtime", endpoint_url=endpoint_url, config=CLIENT_CONFIG)


def _method(event: dict[str, Any]) -> str:
    http = (event.get("requestContext") or {}).get("http") or {}
    return str(event.get("httpMethod") or http.get("method") or "").upper()


def _header(event: dict[str, Any], name: str) -> str:
    """A request header by case-insensitive name (REST keeps the client's casing, HTTP APIs lower-case)."""
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return str(value)
    return ""


def _content_type(event: dict[str, Any]) -> str:
    """The request's media type without parameters: ``"text/plain; charset=utf-8"`` → ``"text/plain"``."""
    return _header(event, "content-type").split(";", 1)[0].strip().lower()


def _body_text(event: dict[str, Any], what: str = "review") -> str:
    """The body as text; ``what`` names it in the error messages."""
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise HttpError(400, "The request body is not valid base64.") from exc
    else:
        try:
            data = raw.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise HttpError(400, f"The {what} is not valid UTF-8 text.") from exc
    if len(data) > MAX_BODY_BYTES:
        raise HttpError(413, f"The {what} is too long: at most {MAX_BODY_BYTES} bytes.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HttpError(400, f"The {what} is not valid UTF-8 text (byte {exc.start}).") from exc


def _unicode(text: str) -> str:
    """``text`` if it is Unicode text; JSON's ``\\ud800`` escapes can spell lone surrogates, which are not."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise HttpError(400, f"The review holds a lone surrogate (\\u{ord(text[exc.start]):04x} at character "
                             f"{exc.start}), which is not Unicode text.") from exc
    return text


def review_from(event: dict[str, Any]) -> str | list[str]:
    """The review in the request: the raw body, or its ``review`` member when the body is JSON; a
    JSON batch ``{"instances": [...]}`` gives its list of reviews (the endpoint checks each one).

    No content type, any ``text/*`` and curl's default form type mean the body is the review itself."""
    kind = _content_type(event)
    if kind != JSON_TYPE and kind not in TEXT_TYPES and not kind.startswith("text/"):
        raise HttpError(415, f'Unsupported content type {kind!r}: send the review as text/plain or JSON {{"review": "..."}}.')
    text = _body_text(event)
    if kind == JSON_TYPE:
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:  # RecursionError: brackets nested thousands deep
            raise HttpError(400, "The request body is not valid JSON.") from exc
        if isinstance(data, dict) and "review" not in data and isinstance(data.get("instances"), list):
            if not data["instances"] or not all(isinstance(item, str) for item in data["instances"]):
                raise HttpError(400, 'Send {"instances": [...]} as a non-empty list of reviews, each a string.')
            if len(data["instances"]) > MAX_REVIEWS:
                raise HttpError(400, f"At most {MAX_REVIEWS} reviews per request, got {len(data['instances'])}.")
            return [_unicode(item) for item in data["instances"]]
        if not isinstance(data, dict) or not isinstance(data.get("review"), str):
            raise HttpError(400, 'Send JSON {"review": "..."} or the review itself as text/plain.')
        text = _unicode(data["review"])
    if not text.strip():
        raise HttpError(400, "The review is empty: write a few words about the film.")
    return text


def _model_message(response: dict[str, Any]) -> str:
    """The container's own message from a ModelError (its body may be JSON or plain text)."""
    original = str(response.get("OriginalMessage") or response["Error"].get("Message") or "")
    try:
        data = json.loads(original)
    except ValueError:
        return original
    return str(data.get("message") or data.get("error") or original) if isinstance(data, dict) else original


def _client_error(exc: ClientError) -> HttpError:
    response = exc.response
    code = response["Error"].get("Code", "")
    detail = f"{code}: {response['Error'].get('Message', '')}"
    if code == "ModelError":
        original = int(response.get("OriginalStatusCode") or 0)
        if original in REFUSALS:
            return HttpError(original, _model_message(response), detail)
        return HttpError(502, "The sentiment model failed to answer.", detail)
    if code in BUSY_CODES:
        return HttpError(503, "The sentiment model is busy or starting; try again shortly.", detail)
    return HttpError(502, "The sentiment service is unavailable.", detail)


def requested(event: dict[str, Any], flag: str) -> bool:
    """Whether the query string turns ``flag`` (``explain``, ``sentences``) on."""
    return str((event.get("queryStringParameters") or {}).get(flag, "")).lower() in ("1", "true")


def classify(review: str | list[str], explain: bool = False, sentences: bool = False) -> dict[str, Any]:
    """Ask the SageMaker endpoint; the reply is ``{"label", "probability", "model_version"}``, plus
    ``words`` and ``truncated`` when an explanation is asked for and ``sentences`` (each with its
    ``start``, ``end``, ``label`` and ``probability``) when those are; for a list of reviews it is
    ``{"predictions": [{"label", "probability"}, ...], "model_version"}``; either with the request's
    ``inference_id``."""
    batch = isinstance(review, list)
    if batch and (explain or sentences):
        raise HttpError(400, "Explanations and sentences are for one review at a time, not for a batch of instances.")
    endpoint = os.environ.get("ENDPOINT_NAME")
    if not endpoint:
        raise HttpError(502, "The sentiment service is not configured.", "ENDPOINT_NAME is not set")
    request = {"instances": review} if batch else {"review": review, **({"explain": True} if explain else {}),
                                                   **({"sentences": True} if sentences else {})}
    payload = json.dumps(request, ensure_ascii=False).encode("utf-8")
    if len(payload) > MAX_BODY_BYTES:
        raise HttpError(413, f"The review is too long: at most {MAX_BODY_BYTES} bytes.")
    client = runtime_client(os.environ.get(ENDPOINT_URL_ENV) or None)
    inference_id = str(uuid.uuid4())
    try:
        reply = client.invoke_endpoint(
            EndpointName=endpoint, ContentType=JSON_TYPE, Accept=JSON_TYPE, Body=payload, InferenceId=inference_id
        )
        answer = json.loads(reply["Body"].read())
    except ClientError as exc:
        raise _client_error(exc) from exc
    except BotoConnectionError as exc:
        raise HttpError(503, "The sentiment model cannot be reached; try again later.", repr(exc)) from exc
    except ReadTimeoutError as exc:
        raise HttpError(504, "The sentiment model took too long to answer.", repr(exc)) from exc
    except (BotoCoreError, ValueError) as exc:
        raise HttpError(502, "The sentiment service is unavailable.", repr(exc)) from exc
    if batch:
        return {**_batch_answer(answer, len(review)), "inference_id": inference_id}
    if not isinstance(answer, dict) or answer.get("label") not in LABELS:
        raise HttpError(502, "The sentiment model sent an unexpected answer.", f"reply: {answer!r:.200}")
    if explain and not isinstance(answer.get("words"), list):
        raise HttpError(502, "The sentiment model sent no explanation.", f"reply: {answer!r:.200}")
    if sentences and not isinstance(answer.get("sentences"), list):
        raise HttpError(502, "The sentiment model sent no sentences.", f"reply: {answer!r:.200}")
    keys = (("label", "probability", "model_version") + (("truncated", "words") if explain else ())
            + (("sentences",) if sentences else ()))
    return {**{key: answer.get(key) for key in keys}, "inference_id": inference_id}


def _batch_answer(answer: Any, count: int) -> dict[str, Any]:
    """The endpoint's answer to ``count`` instances, checked: one verdict per review, in order."""
    predictions = answer.get("predictions") if isinstance(answer, dict) else None
    if not isinstance(predictions, list) or len(predictions) != count or not all(
            isinstance(p, dict) and p.get("label") in LABELS for p in predictions):
        raise HttpError(502, "The sentiment model sent an unexpected answer.", f"reply: {answer!r:.200}")
    return {"predictions": [{"label": p["label"], "probability": p.get("probability")} for p in predictions],
            "model_version": answer.get("model_version")}


def cors_headers(request_origin: str) -> dict[str, str]:
    """The CORS headers for a caller at ``request_origin`` (its ``Origin`` header, "" if none): the one
    place that applies ``CORS_ALLOW_ORIGIN`` (the local gateway uses it for its own answers too).

    ``*`` allows every origin. With an allow-list, a listed origin is echoed back and any other gets no
    ``Access-Control-Allow-Origin``, so the browser withholds the answer; a caller sending no ``Origin``
    (not a browser, so CORS does not apply) gets the first listed origin.
    """
    allowed = [origin for origin in re.split(r"[\s,]+", os.environ.get("CORS_ALLOW_ORIGIN", "*")) if origin]
    if not allowed or "*" in allowed:
        return {"Access-Control-Allow-Origin": "*"}
    chosen = request_origin if request_origin in allowed else (allowed[0] if not request_origin else None)
    return {"Access-Control-Allow-Origin": chosen, "Vary": "Origin"} if chosen else {"Vary": "Origin"}


def _response(event: dict[str, Any], status: int, payload: dict[str, Any] | None, **headers: str) -> dict[str, Any]:
    """A proxy response: format 1.0 for REST events, 2.0 (lower-case header names) for HTTP APIs."""
    headers = {**cors_headers(_header(event, "origin")), **headers}
    if payload is not None:
        headers["Content-Type"] = JSON_TYPE
    if event.get("version") == "2.0":
        headers = {key.lower(): value for key, value in headers.items()}
    body = "" if payload is None else json.dumps(payload)
    return {"statusCode": status, "headers": headers, "body": body, "isBase64Encoded": False}


def feedback_from(event: dict[str, Any]) -> tuple[str, str]:
    """The ``(inference_id, label)`` of a feedback request; the id in its canonical UUID spelling (it
    becomes a file name)."""
    kind = _content_type(event)
    if kind != JSON_TYPE:
        raise HttpError(415, f"Unsupported content type {kind!r}: {FEEDBACK_SHAPE}")
    try:
        data = json.loads(_body_text(event, "feedback"))
    except (ValueError, RecursionError) as exc:
        raise HttpError(400, f"The request body is not valid JSON. {FEEDBACK_SHAPE}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("inference_id"), str):
        raise HttpError(400, FEEDBACK_SHAPE)
    try:
        inference_id = str(uuid.UUID(data["inference_id"]))
    except ValueError as exc:
        raise HttpError(400, "The inference_id is not the id of an answer (a UUID such as "
                             "3f0b8c1e-8d5a-4e0f-9b61-2f4d8a7c9e10).") from exc
    if data.get("label") not in LABELS:
        raise HttpError(400, 'The label must be "positive" or "negative": what the review really is.')
    return inference_id, data["label"]


@functools.cache
def s3_client() -> Any:
    """One S3 client for the feedback, created on first use and reused by warm invocations."""
    return boto3.client("s3")


def _write_file(path: Path, data: bytes) -> None:
    """Whole or not at all: a temporary sibling (hidden, so readers skip it) renamed over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def store_feedback(inference_id: str, label: str) -> None:
    """Write ``{"inferenceId", "label", "time"}`` to ``<FEEDBACK_LOCATION>/yyyy/mm/dd/hh/<id>.json``
    (a local folder or S3), as Data Capture files its records by the hour."""
    location = os.environ.get("FEEDBACK_LOCATION", "").rstrip("/")
    if not location:
        raise HttpError(501, "Feedback is not enabled on this API.", "FEEDBACK_LOCATION is not set")
    now = datetime.now(timezone.utc)
    key = f"{now:%Y/%m/%d/%H}/{inference_id}.json"
    body = json.dumps({"inferenceId": inference_id, "label": label, "time": f"{now:%Y-%m-%dT%H:%M:%SZ}"}).encode()
    if location.startswith("s3://"):
        bucket, _, prefix = location.removeprefix("s3://").partition("/")
        target = f"{prefix}/{key}" if prefix else key
        try:
            s3_client().put_object(Bucket=bucket, Key=target, Body=body, ContentType=JSON_TYPE)
        except (BotoCoreError, ClientError) as exc:
            raise HttpError(502, "The feedback could not be stored; try again later.", repr(exc)) from exc
        return
    try:
        _write_file(Path(location.removeprefix("file://")) / key, body)
    except OSError as exc:
        raise HttpError(500, "The feedback could not be stored; try again later.", repr(exc)) from exc


def _is_feedback(event: dict[str, Any]) -> bool:
    """Whether the request is for the feedback route: by the REST API's resource, else the path (an
    HTTP API's may start with the stage)."""
    path = event.get("resource") or event.get("rawPath") or event.get("path") or ""
    return str(path).rstrip("/").endswith(FEEDBACK_ROUTE)


Answer = tuple[int, dict[str, Any]]


def _predict(event: dict[str, Any], record: dict[str, Any]) -> Answer:
    review = review_from(event)
    reviews = review if isinstance(review, list) else [review]
    record.update(reviews=len(reviews), review_chars=sum(map(len, reviews)))
    result = classify(review, requested(event, "explain"), requested(event, "sentences"))
    record.update(label=result.get("label"), inference_id=result["inference_id"])  # no label for a batch
    return 200, result


def _feedback(event: dict[str, Any], record: dict[str, Any]) -> Answer:
    inference_id, label = feedback_from(event)
    record.update(inference_id=inference_id, feedback=label)
    store_feedback(inference_id, label)
    return 202, {"inference_id": inference_id, "label": label}


def _answer(event: dict[str, Any], record: dict[str, Any], handle: Callable[..., Answer]) -> dict[str, Any]:
    """What ``handle`` answers, or its error as ``{"message"}``."""
    try:
        return _response(event, *handle(event, record))
    except HttpError as exc:
        record["error"] = exc.detail
        return _response(event, exc.status, {"message": exc.message})
    except Exception as exc:  # the caller must never see a stack trace; the log gets the cause
        record["error"] = f"{type(exc).__name__}: {exc}"
        return _response(event, 502, {"message": "The sentiment service failed unexpectedly."})


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway proxy entry point: POST a review, get its sentiment (or POST feedback on an answer);
    OPTIONS is a CORS preflight."""
    started = time.monotonic()
    method = _method(event)
    request_id = getattr(context, "aws_request_id", None) or (event.get("requestContext") or {}).get("requestId")
    record: dict[str, Any] = {"request_id": request_id, "method": method}
    if method == "OPTIONS":  # a preflight from an origin not allowed gets no Allow-* headers at all
        allowed = "Access-Control-Allow-Origin" in cors_headers(_header(event, "origin"))
        response = _response(
            event, 204, None,
            **({"Access-Control-Allow-Methods": ALLOW_METHODS, "Access-Control-Allow-Headers": ALLOW_HEADERS,
                "Access-Control-Max-Age": "600"} if allowed else {}),
        )
    elif method == "POST":
        response = _answer(event, record, _feedback if _is_feedback(event) else _predict)
    else:
        response = _response(event, 405, {"message": f"Use POST, not {method}."}, Allow=ALLOW_METHODS)
    record.update(status=response["statusCode"], ms=round((time.monotonic() - started) * 1000, 1))
    logger.info(json.dumps(record))
    return response
