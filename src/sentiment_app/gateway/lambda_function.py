"""AWS Lambda function between API Gateway (proxy integration) and the SageMaker endpoint.

Deployable unchanged as ``lambda_function.lambda_handler``: it imports only the standard library and
boto3 (bundled in Lambda's Python runtimes), so this one file can be zipped alone.

Unlike the course original it accepts REST (1.0) and HTTP API (2.0) events, decodes base64 bodies,
takes the raw review (``text/*`` or no type; other types get 415) or ``{"review": "..."}``, answers CORS preflights, and turns
every failure into ``{"message": ...}`` with a fitting status instead of a bare API Gateway 502.
With the query parameter ``explain=true`` the answer also lists the words behind the verdict
(``words``: word, signed weight, character offsets), which the endpoint computes.

Environment: ``ENDPOINT_NAME`` (required), ``SAGEMAKER_RUNTIME_ENDPOINT_URL`` (optional, e.g. a local
endpoint server; otherwise boto3's usual ``AWS_ENDPOINT_URL*`` resolution), ``CORS_ALLOW_ORIGIN``
(default ``*``, or an allow-list of origins separated by commas; see :func:`cors_headers`).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import logging
import os
import re
import time
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ReadTimeoutError
from botocore.exceptions import ConnectionError as BotoConnectionError

JSON_TYPE = "application/json"
TEXT_TYPES = ("", "application/x-www-form-urlencoded")  # besides text/*: no type, and what `curl -d` sends
MAX_BODY_BYTES = 6 * 1024 * 1024  # InvokeEndpoint's and Lambda's synchronous payload limit
ALLOW_METHODS = "OPTIONS,POST"
ALLOW_HEADERS = "Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token"
BUSY_CODES = {"ModelNotReadyException", "ServiceUnavailable", "ThrottlingException"}
# API Gateway gives up after 29 s, so waiting longer for the model would only bill Lambda time.
CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=28, retries={"mode": "standard", "total_max_attempts": 2})

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


def _body_text(event: dict[str, Any]) -> str:
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
            raise HttpError(400, "The review is not valid UTF-8 text.") from exc
    if len(data) > MAX_BODY_BYTES:
        raise HttpError(413, f"The review is too long: at most {MAX_BODY_BYTES} bytes.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HttpError(400, f"The review is not valid UTF-8 text (byte {exc.start}).") from exc


def review_from(event: dict[str, Any]) -> str:
    """The review in the request: the raw body, or its ``review`` member when the body is JSON.

    No content type, any ``text/*`` and curl's default form type mean the body is the review itself."""
    kind = _header(event, "content-type").split(";", 1)[0].strip().lower()
    if kind != JSON_TYPE and kind not in TEXT_TYPES and not kind.startswith("text/"):
        raise HttpError(415, f'Unsupported content type {kind!r}: send the review as text/plain or JSON {{"review": "..."}}.')
    text = _body_text(event)
    if kind == JSON_TYPE:
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:  # RecursionError: brackets nested thousands deep
            raise HttpError(400, "The request body is not valid JSON.") from exc
        if not isinstance(data, dict) or not isinstance(data.get("review"), str):
            raise HttpError(400, 'Send JSON {"review": "..."} or the review itself as text/plain.')
        text = data["review"]
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
        if 400 <= original < 500:
            return HttpError(original, _model_message(response), detail)
        return HttpError(502, "The sentiment model failed to answer.", detail)
    if code in BUSY_CODES:
        return HttpError(503, "The sentiment model is busy or starting; try again shortly.", detail)
    return HttpError(502, "The sentiment service is unavailable.", detail)


def explain_requested(event: dict[str, Any]) -> bool:
    return str((event.get("queryStringParameters") or {}).get("explain", "")).lower() in ("1", "true")


def classify(review: str, explain: bool = False) -> dict[str, Any]:
    """Ask the SageMaker endpoint; the reply is ``{"label", "probability", "model_version"}``, plus
    ``words`` and ``truncated`` when an explanation is asked for."""
    endpoint = os.environ.get("ENDPOINT_NAME")
    if not endpoint:
        raise HttpError(502, "The sentiment service is not configured.", "ENDPOINT_NAME is not set")
    request = {"review": review, "explain": True} if explain else {"review": review}
    payload = json.dumps(request, ensure_ascii=False).encode("utf-8")
    if len(payload) > MAX_BODY_BYTES:
        raise HttpError(413, f"The review is too long: at most {MAX_BODY_BYTES} bytes.")
    client = runtime_client(os.environ.get("SAGEMAKER_RUNTIME_ENDPOINT_URL") or None)
    try:
        reply = client.invoke_endpoint(
            EndpointName=endpoint, ContentType=JSON_TYPE, Accept=JSON_TYPE, Body=payload
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
    if not isinstance(answer, dict) or answer.get("label") not in ("positive", "negative"):
        raise HttpError(502, "The sentiment model sent an unexpected answer.", f"reply: {answer!r:.200}")
    if explain and not isinstance(answer.get("words"), list):
        raise HttpError(502, "The sentiment model sent no explanation.", f"reply: {answer!r:.200}")
    keys = ("label", "probability", "model_version") + (("truncated", "words") if explain else ())
    return {key: answer.get(key) for key in keys}


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


def _predict(event: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    try:
        review = review_from(event)
        record["review_chars"] = len(review)
        result = classify(review, explain_requested(event))
        record["label"] = result["label"]
        return _response(event, 200, result)
    except HttpError as exc:
        record["error"] = exc.detail
        return _response(event, exc.status, {"message": exc.message})
    except Exception as exc:  # the caller must never see a stack trace; the log gets the cause
        record["error"] = f"{type(exc).__name__}: {exc}"
        return _response(event, 502, {"message": "The sentiment service failed unexpectedly."})


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway proxy entry point: POST a review, get its sentiment; OPTIONS is a CORS preflight."""
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
        response = _predict(event, record)
    else:
        response = _response(event, 405, {"message": f"Use POST, not {method}."}, Allow=ALLOW_METHODS)
    record.update(status=response["statusCode"], ms=round((time.monotonic() - started) * 1000, 1))
    logger.info(json.dumps(record))
    return response
