"""The model container as an ASGI app.

It answers SageMaker's container contract (``GET /ping``, ``POST /invocations``) and also the
SageMaker Runtime route ``POST /endpoints/{name}/invocations``, so code written for
``boto3.client("sagemaker-runtime").invoke_endpoint`` runs unchanged against a local endpoint.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sentiment_app.inference.handler import InferenceError, input_fn, model_fn, output_fn, predict_fn
from sentiment_app.inference.model import SentimentModel
from sentiment_app.serving import MAX_INVOKE_BYTES

log = logging.getLogger(__name__)

ACCOUNT_ID, REGION, VARIANT = "123456789012", "us-east-1", "AllTraffic"
CUSTOM_ATTRIBUTES = "X-Amzn-SageMaker-Custom-Attributes"


class PayloadTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body exceeds the limit of {limit} bytes.")


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it is known to be too big, so a huge upload is never buffered."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():  # counted too: chunked uploads declare no length
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def container_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def runtime_error(status: int, code: str, body: dict[str, object]) -> JSONResponse:
    """An error as the SageMaker Runtime sends it: botocore takes the code from ``x-amzn-ErrorType``."""
    return JSONResponse(body, status_code=status, headers={"x-amzn-ErrorType": code})


def model_error(endpoint: str, reply: Response) -> JSONResponse:
    """Wrap a non-2xx container answer the way InvokeEndpoint does: 424 ``ModelError``."""
    original = bytes(reply.body).decode("utf-8", "replace")
    kind = "client" if reply.status_code < 500 else "server"
    group = f"/aws/sagemaker/Endpoints/{endpoint}"
    message = (
        f'Received {kind} error ({reply.status_code}) from primary with message "{original}". '
        f"See https://{REGION}.console.aws.amazon.com/cloudwatch/home?region={REGION}#logEventViewer:group={group} "
        f"in account {ACCOUNT_ID} for more information."
    )
    return runtime_error(424, "ModelError", {
        "ErrorCode": f"{kind.upper()}_ERROR_FROM_MODEL",
        "Message": message,
        "OriginalStatusCode": reply.status_code,
        "OriginalMessage": original,
        "LogStreamArn": f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{group}",
    })


def handle(model: SentimentModel, body: bytes, content_type: str | None, accept: str | None) -> tuple[str, str]:
    """The SageMaker handler chain, as the inference toolkit calls it."""
    return output_fn(predict_fn(input_fn(body, content_type), model), accept)


class Container:
    """One model container: the model (loaded once, at startup) and the limits it serves under."""

    def __init__(
        self,
        model_dir: Path,
        endpoint_name: str | None,
        max_payload_bytes: int,
        timeout_s: float | None,
        on_activity: Callable[[], None] | None,
    ) -> None:
        self.model_dir = model_dir
        self.endpoint_name = endpoint_name
        self.max_payload_bytes = max_payload_bytes
        self.timeout_s = timeout_s
        self.on_activity = on_activity
        self.model: SentimentModel | None = None

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        """Load before serving: a model that cannot load makes startup fail, visibly, in the log."""
        self.model = await anyio.to_thread.run_sync(model_fn, str(self.model_dir))
        log.info("Model %s (%s) loaded from %s", self.model.version, self.model.name, self.model_dir)
        if self.on_activity is not None:
            self.on_activity()
        yield
        self.model = None

    async def ping(self, request: Request) -> Response:
        return Response(status_code=200 if self.model is not None else 503)

    async def invocations(self, request: Request) -> Response:
        try:
            body = await read_body(request, self.max_payload_bytes)
        except PayloadTooLarge as exc:
            return container_error(413, str(exc))
        return await self.answer(request, body)

    async def invoke_endpoint(self, request: Request) -> Response:
        """SageMaker Runtime's InvokeEndpoint: validation, then the container, then error wrapping."""
        name = request.path_params["name"]
        if self.endpoint_name is not None and name != self.endpoint_name:
            return runtime_error(400, "ValidationError", {"message": f"Endpoint {name} of account {ACCOUNT_ID} not found."})
        try:
            body = await read_body(request, MAX_INVOKE_BYTES)
        except PayloadTooLarge as exc:
            return runtime_error(400, "ValidationError", {"message": str(exc)})
        if len(body) > self.max_payload_bytes:
            reply: Response = container_error(413, str(PayloadTooLarge(self.max_payload_bytes)))
        else:
            reply = await self.answer(request, body)
        if reply.status_code >= 400:
            return model_error(name, reply)
        reply.headers["x-Amzn-Invoked-Production-Variant"] = VARIANT
        return reply

    async def answer(self, request: Request, body: bytes) -> Response:
        """Run the handler off the event loop, so pings and other requests keep being answered."""
        if self.on_activity is not None:
            self.on_activity()
        if self.model is None:
            return container_error(503, "The model is not loaded.")
        content_type, accept = request.headers.get("content-type"), request.headers.get("accept")
        try:
            with anyio.fail_after(self.timeout_s):
                # abandon_on_cancel: a timed-out prediction finishes in its thread, but the caller
                # gets its 504 now (run_in_threadpool would wait for the thread first).
                text, media_type = await anyio.to_thread.run_sync(
                    handle, self.model, body, content_type, accept, abandon_on_cancel=True
                )
        except InferenceError as exc:
            return container_error(exc.status_code, exc.message)
        except TimeoutError:
            return container_error(504, f"The model did not answer within {self.timeout_s:g} s.")
        except Exception:
            log.exception("Invocation failed")
            return container_error(500, "Internal error while predicting; see the endpoint log.")
        headers = {"content-type": media_type}
        if CUSTOM_ATTRIBUTES in request.headers:
            headers[CUSTOM_ATTRIBUTES] = request.headers[CUSTOM_ATTRIBUTES]
        return Response(text, headers=headers)


def create_app(
    model_dir: Path,
    endpoint_name: str | None = None,
    max_payload_bytes: int = MAX_INVOKE_BYTES,
    timeout_s: float | None = None,
    on_activity: Callable[[], None] | None = None,
) -> Starlette:
    """The container app. ``endpoint_name`` None answers InvokeEndpoint for any name; ``timeout_s``
    None lets predictions run as long as they take; ``on_activity`` is called once the model is
    loaded and on every invocation (the server's idle clock)."""
    container = Container(Path(model_dir), endpoint_name, max_payload_bytes, timeout_s, on_activity)
    routes = [
        Route("/ping", container.ping, methods=["GET"]),
        Route("/invocations", container.invocations, methods=["POST"]),
        Route("/endpoints/{name}/invocations", container.invoke_endpoint, methods=["POST"]),
    ]
    return Starlette(routes=routes, lifespan=container.lifespan)
