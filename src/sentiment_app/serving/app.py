"""The model container as an ASGI app.

It answers SageMaker's container contract (``GET /ping``, ``POST /invocations``) and also the
SageMaker Runtime route ``POST /endpoints/{name}/invocations``, so code written for
``boto3.client("sagemaker-runtime").invoke_endpoint`` runs unchanged against a local endpoint, and
TorchServe's ``POST /explanations`` (the words behind a verdict). Requests are validated here, on
the event loop, and their reviews scored together with those of concurrent requests by one
``Batcher`` worker thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.to_thread
import numpy as np
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sentiment_app.inference.explain import occlude
from sentiment_app.inference.handler import (
    InferenceError, Prediction, Reviews, explained, input_fn, model_fn, negotiate, output_fn,
)
from sentiment_app.inference.model import SentimentModel
from sentiment_app.http_common.observability import instrument
from sentiment_app.http_common.body import PayloadTooLarge, read_body
from sentiment_app.inference.handler import MAX_INVOKE_BYTES
from sentiment_app.serving.batching import DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_WAIT_MS, Batcher
from sentiment_app.http_common.openapi import endpoint_document, openapi_route

log = logging.getLogger(__name__)

ACCOUNT_ID, REGION, VARIANT = "123456789012", "us-east-1", "AllTraffic"
CUSTOM_ATTRIBUTES = "X-Amzn-SageMaker-Custom-Attributes"
INLINE_BODY_BYTES = 64 * 1024  # bigger bodies are decoded off the event loop
WARM_UP_REVIEW = "A short warm-up review: the endpoint is healthy only once the model has answered one."
LoadFailure = Callable[[BaseException], None]


def warm_up(model: SentimentModel) -> None:
    """One real prediction: a model that loads but cannot score must not pass ``/ping``."""
    probability = np.asarray(model.predict_proba([WARM_UP_REVIEW]))
    if probability.shape != (1,) or not np.isfinite(probability).all():
        raise RuntimeError(f"The warm-up prediction gave {probability!r}, not one probability.")


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


class Container:
    """One model container: the model (loaded once, at startup) and the limits it serves under."""

    def __init__(
        self,
        model_dir: Path,
        endpoint_name: str | None,
        max_payload_bytes: int,
        timeout_s: float | None,
        on_activity: Callable[[], None] | None,
        batcher_settings: tuple[int, float] = (DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_WAIT_MS),
        on_load_failure: LoadFailure | None = None,
    ) -> None:
        self.model_dir = model_dir
        self.endpoint_name = endpoint_name
        self.max_payload_bytes = max_payload_bytes
        self.timeout_s = timeout_s
        self.on_activity = on_activity
        self.on_load_failure = on_load_failure
        self.model: SentimentModel | None = None  # set only once loaded and warmed up: then /ping says 200
        self.settled = asyncio.Event()  # the load succeeded or failed
        self.failure: str | None = None
        self.batcher = Batcher(self._predict_proba, *batcher_settings)

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        assert self.model is not None  # the batcher runs only while the model is loaded
        return self.model.predict_proba(texts)

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        """Without ``on_load_failure``, startup waits for the model (one that cannot load fails startup,
        visibly, in the log). With it, the server answers at once, ``/ping`` says 503 until the model
        is ready, and a failed load is handed to ``on_load_failure`` (the server process exits)."""
        if self.on_load_failure is None:
            await self.load()
        async with anyio.create_task_group() as tasks:
            if self.on_load_failure is not None:
                tasks.start_soon(self.load_or_report, self.on_load_failure)
            try:
                yield
            finally:
                tasks.cancel_scope.cancel()
                self.batcher.stop()
                self.model = None

    async def load(self) -> None:
        try:
            model = await anyio.to_thread.run_sync(model_fn, str(self.model_dir))
            await anyio.to_thread.run_sync(warm_up, model)
            self.batcher.start()
            self.model = model
        except Exception as exc:
            self.failure = f"The model could not be loaded: {exc}"
            raise
        finally:
            self.settled.set()  # wakes the requests waiting in model_ready()
        log.info("Model %s (%s) loaded from %s and warmed up", model.version, model.name, self.model_dir)
        if self.on_activity is not None:
            self.on_activity()

    async def load_or_report(self, on_load_failure: LoadFailure) -> None:
        try:
            await self.load()
        except Exception as exc:
            log.exception("The model in %s could not be loaded", self.model_dir)
            on_load_failure(exc)

    async def model_ready(self) -> bool:
        """Whether the model can answer, after waiting (within the request timeout) for one still loading."""
        if self.model is not None:  # the usual case, without a cancel scope
            return True
        with anyio.move_on_after(self.timeout_s):
            await self.settled.wait()
        return self.model is not None

    async def ping(self, request: Request) -> Response:
        """200 (empty, as SageMaker expects) only once the model is loaded and has answered a warm-up review."""
        if self.model is not None:
            return Response(status_code=200)
        if self.failure:
            return JSONResponse({"status": "Failed", "message": self.failure}, 503)
        return JSONResponse({"status": "Loading", "message": "The model is loading."}, 503)

    async def invocations(self, request: Request, explain: bool = False) -> Response:
        try:
            body = await read_body(request, self.max_payload_bytes)
        except PayloadTooLarge as exc:
            return container_error(413, str(exc))
        return await self.answer(request, body, explain)

    async def explanations(self, request: Request) -> Response:
        """TorchServe's route: one review in (as for /invocations), its explanation out."""
        return await self.invocations(request, explain=True)

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

    async def answer(self, request: Request, body: bytes, explain: bool = False) -> Response:
        """The handler chain with the model call batched; only the batcher's thread runs the model."""
        if self.on_activity is not None:
            self.on_activity()
        if not await self.model_ready():
            return container_error(503, self.failure or "The model is not loaded yet; try again shortly.")
        content_type, accept = request.headers.get("content-type"), request.headers.get("accept")
        try:
            if len(body) <= INLINE_BODY_BYTES:
                reviews = input_fn(body, content_type)
            else:
                reviews = await anyio.to_thread.run_sync(input_fn, body, content_type)
            negotiate(accept)  # refuse an unsupported Accept before any scoring
            # A timed-out request is answered 504 now; its jobs still queued are dropped.
            prediction = await self.predict(reviews, explain or reviews.explain)
            text, media_type = output_fn(prediction, accept)
        except InferenceError as exc:
            return container_error(exc.status_code, exc.message)
        except (TimeoutError, asyncio.TimeoutError):  # one class from Python 3.11 on
            return container_error(504, f"The model did not answer within {self.timeout_s:g} s.")
        except Exception:
            log.exception("Invocation failed")
            return container_error(500, "Internal error while predicting; see the endpoint log.")
        headers = {"content-type": media_type}
        if CUSTOM_ATTRIBUTES in request.headers:
            headers[CUSTOM_ATTRIBUTES] = request.headers[CUSTOM_ATTRIBUTES]
        return Response(text, headers=headers)

    async def predict(self, reviews: Reviews, explain: bool) -> Prediction:
        """Within the request timeout (``TimeoutError`` past it)."""
        assert self.model is not None
        if not explain:
            probabilities = await self.batcher.predict(reviews.texts, self.timeout_s)
            return Prediction(probabilities, reviews.single, self.model.version)
        if not reviews.single:
            raise InferenceError(400, 'An explanation is for one review: send it as text/plain or JSON {"review": "..."}.')
        with anyio.fail_after(self.timeout_s):
            occlusion = await anyio.to_thread.run_sync(occlude, reviews.texts[0])
            return explained(occlusion.explain(await self.batcher.predict(occlusion.texts)), self.model.version)


def create_app(
    model_dir: Path,
    endpoint_name: str | None = None,
    max_payload_bytes: int = MAX_INVOKE_BYTES,
    timeout_s: float | None = None,
    on_activity: Callable[[], None] | None = None,
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
    max_batch_wait_ms: float = DEFAULT_MAX_WAIT_MS,
    on_load_failure: LoadFailure | None = None,
) -> Starlette:
    """The container app. ``endpoint_name`` None answers InvokeEndpoint for any name; ``timeout_s``
    None lets predictions run as long as they take; ``on_activity`` is called once the model is
    loaded and on every invocation (the server's idle clock). ``app.state.batcher`` is the batcher
    (add to its ``observers`` to see every batch size). ``on_load_failure`` loads the model in the
    background (see ``Container.lifespan``). ``GET /metrics`` has the request and batch-size metrics."""
    container = Container(Path(model_dir), endpoint_name, max_payload_bytes, timeout_s, on_activity,
                          (max_batch_size, max_batch_wait_ms), on_load_failure)
    routes = [
        Route("/ping", container.ping, methods=["GET"]),
        Route("/invocations", container.invocations, methods=["POST"]),
        Route("/explanations", container.explanations, methods=["POST"]),
        Route("/endpoints/{name}/invocations", container.invoke_endpoint, methods=["POST"]),
        openapi_route(endpoint_document(endpoint_name)),
    ]
    app = Starlette(routes=routes, lifespan=container.lifespan)
    app.state.batcher = container.batcher
    container.batcher.observers.append(instrument(app).observe_batch_size)
    return app
