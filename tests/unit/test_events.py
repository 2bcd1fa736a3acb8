"""The local API Gateway's proxy integration: the event it builds (REST API, payload 1.0) and the
Lambda proxy responses it accepts or rejects as API Gateway does."""

from __future__ import annotations

import base64

import pytest

from sentiment_app.gateway.api.events import InvalidProxyResponse, parse_proxy_response, rest_event


def test_event_shape_follows_rest_api() -> None:
    event = rest_event(method="POST", path="/api/sentiment", resource="/api/sentiment",
                       headers=[("Content-Type", "text/plain"), ("X-Tag", "a"), ("X-Tag", "b")],
                       query=[], body=b"", source_ip="192.0.2.1", request_id="r-1")
    assert event["headers"]["X-Tag"] == "b" and event["multiValueHeaders"]["X-Tag"] == ["a", "b"]
    assert event["queryStringParameters"] is None and event["multiValueQueryStringParameters"] is None
    assert event["body"] is None and event["isBase64Encoded"] is False
    assert event["requestContext"]["requestId"] == "r-1"
    assert event["requestContext"]["identity"]["sourceIp"] == "192.0.2.1"


def test_proxy_response_headers_merge_and_decode() -> None:
    response = parse_proxy_response({
        "statusCode": 201, "headers": {"X-One": "1", "X-Two": "single"}, "multiValueHeaders": {"X-Two": ["a", "b"]},
        "body": base64.b64encode(b"\x00\x01").decode(), "isBase64Encoded": True,
    })
    assert response.status == 201 and response.body == b"\x00\x01"
    assert response.headers == [("X-One", "1"), ("X-Two", "a"), ("X-Two", "b")]


@pytest.mark.parametrize("result", [
    None, "200", {"body": "no status"}, {"statusCode": "200"}, {"statusCode": True}, {"statusCode": 200, "body": {}},
    {"statusCode": 200, "extra": 1}, {"statusCode": 200, "headers": {"X": ["list"]}},
    {"statusCode": 200, "body": "%%", "isBase64Encoded": True},
])
def test_malformed_proxy_response_is_rejected(result: object) -> None:
    """API Gateway answers these with 502 "Internal server error"."""
    with pytest.raises(InvalidProxyResponse):
        parse_proxy_response(result)
