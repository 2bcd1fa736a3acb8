"""OpenAPI 3.0 descriptions of the two HTTP APIs, each served at ``GET /openapi.json``.

They say what every route takes and answers, errors included, so clients can be generated from them
and a fuzzer can test the servers against them (``tests/system/test_fuzz.py`` runs schemathesis: no input
may get a 5xx). Kept free of heavy imports: the gateway serves its document without torch.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sentiment_app.wire import FEEDBACK_ROUTE, LABELS, MAX_REVIEWS, SENTIMENT_ROUTE

Document = dict[str, Any]
LABEL = {"type": "string", "enum": list(LABELS)}
PROBABILITY = {"type": "number", "minimum": 0, "maximum": 1, "description": "Probability that the review is positive."}
TEXT_BODY = {"type": "string", "pattern": "^[^\\u0000]*[^\\u0000\\s][^\\u0000]*$",
             "description": "One raw review: UTF-8 text, not blank, without NUL bytes."}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(schema: str, statuses: dict[int, str]) -> dict[str, Any]:
    return {str(status): _json(_ref(schema), description) for status, description in statuses.items()}


SCHEMAS: dict[str, Any] = {
    "ReviewRequest": {
        "type": "object", "required": ["review"],
        "properties": {"review": TEXT_BODY, "explain": {"type": "boolean", "default": False,
                                                        "description": "Also list the words behind the verdict."},
                       "sentences": {"type": "boolean", "default": False,
                                     "description": "Also give each sentence's verdict."}},
    },
    "InstancesRequest": {
        "type": "object", "required": ["instances"],
        "properties": {"instances": {"type": "array", "items": TEXT_BODY, "minItems": 1, "maxItems": MAX_REVIEWS}},
    },
    "Prediction": {
        "type": "object", "required": ["label", "probability", "model_version"],
        "properties": {"label": LABEL, "probability": PROBABILITY, "model_version": {"type": "string"},
                       "sentences": _ref("Sentences")},
    },
    "Sentences": {
        "type": "array", "description": "Asked with sentences: each sentence's place in the review and verdict.",
        "items": {"type": "object", "required": ["start", "end", "label", "probability"],
                  "properties": {"start": {"type": "integer"}, "end": {"type": "integer"}, "label": LABEL,
                                 "probability": PROBABILITY}},
    },
    "Predictions": {
        "type": "object", "required": ["predictions", "model_version"],
        "properties": {
            "predictions": {"type": "array", "items": {
                "type": "object", "required": ["label", "probability"],
                "properties": {"label": LABEL, "probability": PROBABILITY}}},
            "model_version": {"type": "string"},
        },
    },
    "Explanation": {
        "type": "object", "required": ["label", "probability", "model_version", "truncated", "words"],
        "properties": {
            "label": LABEL, "probability": PROBABILITY, "model_version": {"type": "string"},
            "truncated": {"type": "boolean", "description": "Only the start of a long review was explained."},
            "sentences": _ref("Sentences"),
            "words": {"type": "array", "items": {
                "type": "object", "required": ["word", "weight", "start", "end"],
                "properties": {"word": {"type": "string"}, "weight": {"type": "number"},
                               "start": {"type": "integer"}, "end": {"type": "integer"},
                               "spans": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}}}}},
        },
    },
    "Feedback": {
        "type": "object", "required": ["inference_id", "label"],
        "properties": {"inference_id": {"type": "string", "format": "uuid", "description": "The answer's id."},
                       "label": {**LABEL, "description": "What the review really is."}},
    },
    "ContainerError": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
    "Message": {"type": "object", "required": ["message"], "properties": {"message": {"type": "string"}}},
    "ModelError": {
        "type": "object", "required": ["Message", "OriginalStatusCode", "OriginalMessage"],
        "properties": {"ErrorCode": {"type": "string"}, "Message": {"type": "string"},
                       "OriginalStatusCode": {"type": "integer"}, "OriginalMessage": {"type": "string"},
                       "LogStreamArn": {"type": "string"}},
    },
}

INVOCATION_BODY = {
    "required": True,
    "description": "text/plain: one review; application/json: {\"review\": ...} or {\"instances\": [...]}; "
                   "text/csv: one review per line.",
    "content": {
        "text/plain": {"schema": TEXT_BODY},
        "application/json": {"schema": {"oneOf": [_ref("ReviewRequest"), _ref("InstancesRequest")]}},
        "text/csv": {"schema": {"type": "string", "description": "One review per line."}},
    },
}
EXPLANATION_BODY = {
    "required": True,
    "content": {"text/plain": {"schema": TEXT_BODY}, "application/json": {"schema": _ref("ReviewRequest")}},
}
PREDICTED = {
    "description": "The verdict. JSON (the default Accept) or, for Accept: text/plain, bare 1.0 / 0.0 per review.",
    "content": {"application/json": {"schema": {"oneOf": [_ref("Prediction"), _ref("Predictions"), _ref("Explanation")]}},
                "text/plain": {"schema": {"type": "string", "example": "1.0"}}},
}
CONTAINER_ERRORS = {
    400: "Bad input: empty or blank review, invalid UTF-8, a NUL byte, malformed JSON or JSON of the wrong shape; "
         "an unknown target variant.",
    406: "Unsupported Accept type.",
    413: "The body is over the payload limit.",
    415: "Unsupported or missing Content-Type.",
    503: "The model is not loaded yet.",
    504: "The model did not answer within the timeout.",
}
METRICS = {"get": {"summary": "Prometheus metrics.", "responses": {
    "200": {"description": "Prometheus text format.", "content": {"text/plain": {"schema": {"type": "string"}}}}}}}


def _document(title: str, description: str, paths: dict[str, Any]) -> Document:
    return {"openapi": "3.0.3", "info": {"title": title, "version": "1", "description": description},
            "paths": paths, "components": {"schemas": SCHEMAS}}


def endpoint_document(endpoint_name: str | None = None) -> Document:
    """The model container: SageMaker's container contract plus the SageMaker Runtime route, which
    answers only to ``endpoint_name`` when one is given."""
    name = {"type": "string", "minLength": 1, **({"enum": [endpoint_name]} if endpoint_name else {})}
    invocation = {"requestBody": INVOCATION_BODY, "responses": {"200": PREDICTED,
                                                              **_errors("ContainerError", CONTAINER_ERRORS)}}
    return _document("sentiment-app model endpoint", "A SageMaker inference container for movie-review sentiment.", {
        "/ping": {"get": {"summary": "Health: 200 (empty) once the model is loaded and warmed up.", "responses": {
            "200": {"description": "Ready."},
            "503": _json({"type": "object", "properties": {"status": {"type": "string"}, "message": {"type": "string"}}},
                         "Loading, or the model failed to load.")}}},
        "/invocations": {"post": {"summary": "Score reviews.", **invocation}},
        "/explanations": {"post": {
            "summary": "Score one review and list the words behind the verdict.", "requestBody": EXPLANATION_BODY,
            "responses": {"200": _json(_ref("Explanation"), "The verdict and its words."),
                          **_errors("ContainerError", CONTAINER_ERRORS)}}},
        "/endpoints/{name}/invocations": {"post": {
            "summary": "SageMaker Runtime InvokeEndpoint: container errors are wrapped as a 424 ModelError.",
            "parameters": [{"name": "name", "in": "path", "required": True, "schema": name}],
            "requestBody": INVOCATION_BODY,
            "responses": {"200": PREDICTED,
                          "400": _json(_ref("Message"), "ValidationError: unknown endpoint or target variant, or a body over 6 MB."),
                          "424": _json(_ref("ModelError"), "ModelError: the container refused or failed the request.")}}},
        "/metrics": METRICS,
    })


def gateway_document() -> Document:
    """The local API Gateway and its Lambda function, and the web page it serves."""
    throttled = ("The key's rate limit or daily quota is used up, or every execution environment is busy and the "
                 "queue is full.")
    message_errors = _errors("Message", {
        400: "Bad input: empty or blank review, invalid UTF-8 or base64, a NUL byte, malformed or misshapen JSON.",
        403: "Missing or invalid x-api-key (when keys are required), or an unknown route.",
        413: "The body is over the size limit.",
        415: "A content type other than text/*, application/json or none.",
        429: throttled,
        502: "The model endpoint failed.",
        503: "The model endpoint cannot be reached or is starting.",
        504: "The model endpoint did not answer in time.",
    })
    feedback_errors = _errors("Message", {
        400: "Bad input: malformed JSON, an inference_id that is not a UUID, a label other than positive or negative.",
        403: "Missing or invalid x-api-key (when keys are required).",
        413: "The body is over the size limit.",
        415: "A content type other than application/json.",
        429: throttled,
        500: "The feedback could not be written.",
        501: "Feedback is not enabled (the function has no FEEDBACK_LOCATION).",
        502: "The feedback could not be stored in S3.",
    })
    api_key = {"name": "x-api-key", "in": "header", "schema": {"type": "string"},
               "description": "Required when the gateway runs with --require-api-key."}
    preflight = {"summary": "CORS preflight.", "responses": {"204": {"description": "Allowed methods and headers."}}}
    inference_id = {"inference_id": {"type": "string", "format": "uuid",
                                     "description": f"Names this answer in feedback (POST {FEEDBACK_ROUTE})."}}
    prediction = {"allOf": [_ref("Prediction"), {"type": "object", "required": ["inference_id"], "properties": {
        **inference_id, "truncated": {"type": "boolean"}, "words": SCHEMAS["Explanation"]["properties"]["words"]}}]}
    predictions = {"allOf": [_ref("Predictions"), {"type": "object", "required": ["inference_id"],
                                                   "properties": inference_id}]}
    return _document("sentiment-app API", "POST a movie review, get its sentiment (API Gateway + Lambda).", {
        SENTIMENT_ROUTE: {
            "post": {
                "summary": "Classify one review, or a batch of them ({\"instances\": [...]}, answered in order).",
                "parameters": [
                    {"name": "explain", "in": "query", "schema": {"type": "string", "enum": ["true", "false"]},
                     "description": "true: also list the words behind the verdict."},
                    {"name": "sentences", "in": "query", "schema": {"type": "string", "enum": ["true", "false"]},
                     "description": "true: also give each sentence's verdict (one review only)."},
                    api_key,
                ],
                "requestBody": {"required": True, "content": {
                    "text/plain": {"schema": TEXT_BODY},
                    "application/json": {"schema": {"oneOf": [
                        {"type": "object", "required": ["review"], "properties": {"review": TEXT_BODY}},
                        _ref("InstancesRequest")]}}}},
                "responses": {"200": _json({"oneOf": [prediction, predictions]}, "The verdict(s)."),
                              **message_errors},
            },
            "options": preflight,
        },
        FEEDBACK_ROUTE: {
            "post": {
                "summary": "Say what a review really is, naming the answer by its inference_id.",
                "parameters": [api_key],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("Feedback")}}},
                "responses": {"202": _json(_ref("Feedback"), "Stored."), **feedback_errors},
            },
            "options": preflight,
        },
        "/ready": {"get": {"summary": "Readiness: whether the model endpoint answers /ping.", "responses": {
            "200": _json({"type": "object"}, "Ready."), "503": _json({"type": "object"}, "The endpoint is down.")}}},
        "/config.js": {"get": {"summary": "The page's settings.", "responses": {
            "200": {"description": "JavaScript.", "content": {"text/javascript": {"schema": {"type": "string"}}}}}}},
        "/metrics": METRICS,
    })


def openapi_route(document: Document) -> Route:
    """``GET /openapi.json`` answering ``document``."""

    async def openapi(request: Request) -> Response:
        return JSONResponse(document)

    return Route("/openapi.json", openapi, methods=["GET"])
