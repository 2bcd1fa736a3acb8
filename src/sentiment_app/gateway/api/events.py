"""REST API (payload format 1.0) proxy events and responses, shaped as ``sam local start-api`` does.

Kept free of any web framework so the event shape and the response rules can be read in one place.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

ACCOUNT_ID, API_ID, RESOURCE_ID, STAGE = "123456789012", "1234567890", "123456", "local"
RESPONSE_KEYS = {"statusCode", "body", "headers", "multiValueHeaders", "isBase64Encoded", "base64Encoded", "cookies"}
SCALARS = (str, int, float, bool)


class InvalidProxyResponse(ValueError):
    """The function's answer is not a valid proxy response; API Gateway turns that into a 502."""


def _single_and_multi(pairs: Iterable[tuple[str, str]]) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    """API Gateway's two views of repeated names: last value, and all values; ``None`` when empty."""
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        multi.setdefault(name, []).append(value)
    if not multi:
        return None, None
    return {name: values[-1] for name, values in multi.items()}, multi


def _body(body: bytes) -> tuple[str | None, bool]:
    """Text bodies pass as they are; bytes that are not UTF-8 go base64, as for a binary media type."""
    if not body:
        return None, False
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), True


def rest_event(
    *,
    method: str,
    path: str,
    resource: str,
    headers: list[tuple[str, str]],
    query: list[tuple[str, str]],
    body: bytes,
    source_ip: str,
    request_id: str,
) -> dict[str, Any]:
    """A REST API Lambda proxy event for one request."""
    now = datetime.now(timezone.utc)
    single_headers, multi_headers = _single_and_multi(headers)
    single_query, multi_query = _single_and_multi(query)
    text, is_base64 = _body(body)
    lower = {name.lower(): value for name, value in headers}
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": single_query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "resourceId": RESOURCE_ID,
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/{STAGE}{path}",
            "stage": STAGE,
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "domainName": lower.get("host", "localhost"),
            "domainPrefix": lower.get("host", "localhost").split(".", 1)[0],
            "identity": {"sourceIp": source_ip, "userAgent": lower.get("user-agent")},
            "authorizer": None,
        },
        "body": text,
        "isBase64Encoded": is_base64,
    }


@dataclass(frozen=True)
class ProxyResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _scalar(value: Any, what: str) -> str:
    if not isinstance(value, SCALARS):
        raise InvalidProxyResponse(f"{what} must be a string or number, not {type(value).__name__}")
    return str(value).lower() if isinstance(value, bool) else str(value)


def _mapping(result: dict[str, Any], key: str) -> dict[str, Any]:
    value = result.get(key) or {}
    if not isinstance(value, dict):
        raise InvalidProxyResponse(f"{key} must be an object")
    return value


def parse_proxy_response(result: Any) -> ProxyResponse:
    """Check a format 1.0 proxy response as API Gateway would and turn it into status, headers, body."""
    if not isinstance(result, dict):
        raise InvalidProxyResponse(f"the function returned {type(result).__name__}, not an object")
    unknown = set(result) - RESPONSE_KEYS
    if unknown:
        raise InvalidProxyResponse(f"unknown keys {sorted(unknown)}")
    status = result.get("statusCode")
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise InvalidProxyResponse(f"statusCode must be an integer HTTP status, not {status!r}")
    multi = _mapping(result, "multiValueHeaders")
    if any(not isinstance(values, list) for values in multi.values()):
        raise InvalidProxyResponse("multiValueHeaders values must be lists")
    overridden = {name.lower() for name in multi}  # multiValueHeaders wins over headers
    headers = [(name, _scalar(value, f"header {name}")) for name, value in _mapping(result, "headers").items()
               if name.lower() not in overridden]
    headers += [(name, _scalar(value, f"header {name}")) for name, values in multi.items() for value in values]
    cookies = result.get("cookies") or []
    if not isinstance(cookies, list):
        raise InvalidProxyResponse("cookies must be a list")
    headers += [("Set-Cookie", _scalar(cookie, "cookie")) for cookie in cookies]
    body = result.get("body")
    if body is not None and not isinstance(body, str):
        raise InvalidProxyResponse(f"body must be a string, not {type(body).__name__}")
    if result.get("isBase64Encoded") or result.get("base64Encoded"):
        try:
            data = base64.b64decode(body or "", validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidProxyResponse("body is not valid base64") from exc
    else:
        data = (body or "").encode("utf-8")
    return ProxyResponse(status, headers, data)
