"""The model container as an ASGI app.

It answers SageMaker's container contract (``GET /ping``, ``POST /invocations``) and also the
SageMaker Runtime route ``POST /endpoints/{name}/invocations``, so code written for
``boto3.client("sagemaker-runtime").invoke_endpoint`` runs unchanged against a local endpoint, and
TorchServe's ``POST /explanations`` (the words behind a verdict). Requests are validated here, on
the event loop, and their reviews scored together with those of concurrent requests by one
``Batcher`` worker thread per model.

An endpoint serves one or more production variants (``variants.py``): each request goes to one,
picked by weight unless the caller names it (``TargetVariant``), and every answer names it. Shadow
variants score a copy of each request after its answer has left; their answers are compared with
it, logged and counted, never returned. Data Capture (``capture.py``) keeps a sample of the
requests and answers.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import anyio
import anyio.to_thread
import numpy as np
from prometheus_client import CollectorRegistry, Counter
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sentiment_app.inference.handler import (
    InferenceError, Prediction, Reviews, input_fn, label, model_fn, negotiate, output_fn, plan,
)
from sentiment_app.inference.model import SentimentModel
from sentiment_app.http_common.body import PayloadTooLarge, read_body
from sentiment_app.wire import MAX_BODY_BYTES
from sentiment_app.http_common.observability import Metrics, instrument, new_request_id, request_id_of
from sentiment_app.http_common.openapi import endpoint_document, openapi_route
from sentiment_app.serving.batching import DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_WAIT_MS, Batcher
from sentiment_app.serving.capture import INFERENCE_ID_HEADER, CaptureSettings, DataCapture, Event
from sentiment_app.serving.variants import EndpointConfig, Router

log = logging.getLogger(__name__)
SHADOW_LOG = logging.getLogger("sentiment_app.shadow")

ACCOUNT_ID, REGION = "123456789012", "us-east-1"
VARIANT_HEADER = "x-amzn-invoked-production-variant"  # on every answer: the variant that gave it
TARGET_VARIANT_HEADER = "x-amzn-sagemaker-target-variant"  # boto3's invoke_endpoint(TargetVariant=...)
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


class UnknownVariant(Exception):
    """A request names a target variant the endpoint does not have."""


class ModelVariant:
    """One variant's model (loaded once, at startup) and the batcher whose thread alone runs it."""

    def __init__(self, name: str, model_dir: Path, batcher_settings: tuple[int, float]) -> None:
        self.name = name
        self.model_dir = model_dir
        self.model: SentimentModel | None = None  # set only once loaded and warmed up
        self.batcher = Batcher(self._predict_proba, *batcher_settings)

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        assert self.model is not None  # the batcher runs only while the model is loaded
        return self.model.predict_proba(texts)

    async def load(self) -> None:
        model = await anyio.to_thread.run_sync(model_fn, str(self.model_dir))
        await anyio.to_thread.run_sync(warm_up, model)
        self.batcher.start()
        self.model = model
        log.info("Variant %s: model %s (%s) loaded from %s and warmed up", self.name, model.version, model.name,
                 self.model_dir)

    def stop(self) -> None:
        self.batcher.stop()
        self.model = None

    @property
    def version(self) -> str:
        assert self.model is not None
        return self.model.version


class Container:
    """One endpoint: its variants' models, the router between them, the limits it serves under,
    and Data Capture when it is on."""

    def __init__(
        self,
        config: EndpointConfig,
        endpoint_name: str | None,
        max_payload_bytes: int,
        timeout_s: float | None,
        on_activity: Callable[[], None] | None,
        registry: CollectorRegistry,
        batcher_settings: tuple[int, float] = (DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_WAIT_MS),
        on_load_failure: LoadFailure | None = None,
        weights_file: Path | None = None,
        capture: CaptureSettings | None = None,
    ) -> None:
        self.endpoint_name = endpoint_name
        self.max_payload_bytes = max_payload_bytes
        self.timeout_s = timeout_s
        self.on_activity = on_activity
        self.on_load_failure = on_load_failure
        self.variants = {v.name: ModelVariant(v.name, Path(str(v.model)), batcher_settings) for v in config.production}
        self.shadows = [ModelVariant(v.name, Path(str(v.model)), batcher_settings) for v in config.shadows]
        self.router = Router(config.weights, weights_file)
        self.ready = False  # every model loaded and warmed up: then /ping says 200
        self.settled = asyncio.Event()  # the load succeeded or failed
        self.failure: str | None = None
        if capture is not None and endpoint_name is None:
            raise ValueError("Data Capture needs the endpoint's name: its files are kept by endpoint")
        self.capture = DataCapture(capture, str(endpoint_name), registry) if capture is not None else None
        self.shadow_outcomes = Counter(
            "shadow_predictions", "Reviews a shadow variant scored, by whether its label agreed with the answer sent "
            "(outcome agree, disagree or error).", ["variant", "outcome"], registry=registry)

    @property
    def every_variant(self) -> list[ModelVariant]:
        return [*self.variants.values(), *self.shadows]

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        """Without ``on_load_failure``, startup waits for the models (one that cannot load fails startup,
        visibly, in the log). With it, the server answers at once, ``/ping`` says 503 until the models
        are ready, and a failed load is handed to ``on_load_failure`` (the server process exits).
        At shutdown the batchers finish what is queued and Data Capture publishes its files."""
        if self.capture is not None:
            self.capture.start()
        try:
            if self.on_load_failure is None:
                await self.load()
            async with anyio.create_task_group() as tasks:
                if self.on_load_failure is not None:
                    tasks.start_soon(self.load_or_report, self.on_load_failure)
                try:
                    yield
                finally:
                    tasks.cancel_scope.cancel()
                    self.ready = False
                    for variant in self.every_variant:
                        variant.stop()
        finally:
            if self.capture is not None:
                self.capture.close()

    async def load(self) -> None:
        for variant in self.every_variant:
            try:
                await variant.load()
            except Exception as exc:
                which = "The model" if len(self.every_variant) == 1 else f"The model of variant {variant.name}"
                self.failure = f"{which} could not be loaded: {exc}"
                self.settled.set()  # wakes the requests waiting in models_ready()
                raise
        # The models' objects live as long as the process: kept out of the collector's full
        # passes, which would otherwise walk them all and stall every request waiting meanwhile.
        gc.freeze()
        self.ready = True
        self.settled.set()
        if self.on_activity is not None:
            self.on_activity()

    async def load_or_report(self, on_load_failure: LoadFailure) -> None:
        try:
            await self.load()
        except Exception as exc:
            log.exception("A model could not be loaded")
            on_load_failure(exc)

    async def models_ready(self) -> bool:
        """Whether the models can answer, after waiting (within the request timeout) for any still loading."""
        if self.ready:  # the usual case, without a cancel scope
            return True
        with anyio.move_on_after(self.timeout_s):
            await self.settled.wait()
        return self.ready

    async def ping(self, request: Request) -> Response:
        """200 (empty, as SageMaker expects) only once every model is loaded and has answered a warm-up review."""
        if self.ready:
            return Response(status_code=200)
        if self.failure:
            return JSONResponse({"status": "Failed", "message": self.failure}, 503)
        return JSONResponse({"status": "Loading", "message": "The model is loading."}, 503)

    def route(self, request: Request) -> ModelVariant:
        """The variant the caller names, else one picked by weight."""
        target = request.headers.get(TARGET_VARIANT_HEADER)
        if target is None:
            return self.variants[self.router.choose()]
        try:
            return self.variants[target]
        except KeyError:
            raise UnknownVariant(f"The target variant {target!r} is not a production variant of this endpoint; "
                                 f"it has {', '.join(self.variants)}.") from None

    async def invocations(self, request: Request, explain: bool = False) -> Response:
        try:
            variant = self.route(request)
        except UnknownVariant as exc:
            return container_error(400, str(exc))
        try:
            body = await read_body(request, self.max_payload_bytes)
        except PayloadTooLarge as exc:
            reply: Response = container_error(413, str(exc))
        else:
            reply = await self.answer(request, variant, body, explain)
        reply.headers[VARIANT_HEADER] = variant.name
        return reply

    async def explanations(self, request: Request) -> Response:
        """TorchServe's route: one review in (as for /invocations), its explanation out."""
        return await self.invocations(request, explain=True)

    async def invoke_endpoint(self, request: Request) -> Response:
        """SageMaker Runtime's InvokeEndpoint: validation, then the container, then error wrapping."""
        name = request.path_params["name"]
        if self.endpoint_name is not None and name != self.endpoint_name:
            return runtime_error(400, "ValidationError", {"message": f"Endpoint {name} of account {ACCOUNT_ID} not found."})
        try:
            variant = self.route(request)
            body = await read_body(request, MAX_BODY_BYTES)
        except (UnknownVariant, PayloadTooLarge) as exc:
            return runtime_error(400, "ValidationError", {"message": str(exc)})
        if len(body) > self.max_payload_bytes:
            reply: Response = container_error(413, str(PayloadTooLarge(self.max_payload_bytes)))
        else:
            reply = await self.answer(request, variant, body)
        if reply.status_code >= 400:
            reply = model_error(name, reply)
        reply.headers[VARIANT_HEADER] = variant.name
        return reply

    async def answer(self, request: Request, variant: ModelVariant, body: bytes, explain: bool = False) -> Response:
        """The handler chain with the model call batched; only the batcher's thread runs the model.
        Capture and the shadows see the answer only once it is made; the shadows run after it has left."""
        if self.on_activity is not None:
            self.on_activity()
        if not await self.models_ready():
            return container_error(503, self.failure or "The model is not loaded yet; try again shortly.")
        content_type, accept = request.headers.get("content-type"), request.headers.get("accept")
        try:
            if len(body) <= INLINE_BODY_BYTES:
                reviews = input_fn(body, content_type)
            else:
                reviews = await anyio.to_thread.run_sync(input_fn, body, content_type)
            negotiate(accept)  # refuse an unsupported Accept before any scoring
            # A timed-out request is answered 504 now; its jobs still queued are dropped.
            prediction = await self.predict(variant, replace(reviews, explain=explain or reviews.explain))
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
        inference_id = None
        if self.capture is not None and self.capture.sampled():
            inference_id = request.headers.get(INFERENCE_ID_HEADER) or new_request_id()
            self.capture.record(Event(variant.name, body, content_type, text, media_type, inference_id, time.time()))
        shadows = None
        if self.shadows and prediction.explanation is None:
            shadows = BackgroundTask(self.shadow, variant.name, reviews, prediction, body, content_type, accept,
                                     inference_id, request_id_of(request))
        return Response(text, headers=headers, background=shadows)

    async def predict(self, variant: ModelVariant, reviews: Reviews) -> Prediction:
        """The handler's ``predict_fn`` with the model call batched (``TimeoutError`` past the
        request timeout)."""
        if reviews.explain or reviews.sentences:  # occlusion and sentence cuts are CPU work: off the event loop
            planned = await anyio.to_thread.run_sync(plan, reviews)
        else:
            planned = plan(reviews)
        return planned.prediction(await variant.batcher.predict(planned.texts, self.timeout_s), variant.version)

    async def shadow(self, primary: str, reviews: Reviews, answer: Prediction, body: bytes, content_type: str | None,
                     accept: str | None, inference_id: str | None, request_id: str) -> None:
        """Score the request with every shadow, after its answer has left: compare, count, log, and
        capture the shadow's answer when the request itself was captured (same inference id)."""
        answered = [label(p) for p in answer.probabilities]
        for shadow in self.shadows:
            try:
                probabilities = await shadow.batcher.predict(reviews.texts, self.timeout_s)
            except Exception:  # a failing or slow shadow costs only its own comparison
                log.exception("Shadow variant %s failed on request %s", shadow.name, request_id)
                self.shadow_outcomes.labels(shadow.name, "error").inc(len(reviews.texts))
                continue
            agreed = sum(label(p) == mine for p, mine in zip(probabilities, answered))
            self.shadow_outcomes.labels(shadow.name, "agree").inc(agreed)
            self.shadow_outcomes.labels(shadow.name, "disagree").inc(len(answered) - agreed)
            SHADOW_LOG.info(json.dumps({
                "request_id": request_id, "shadow": shadow.name, "variant": primary, "reviews": len(answered),
                "agreed": agreed, "shadow_probabilities": [round(float(p), 4) for p in probabilities],
                "probabilities": [round(float(p), 4) for p in answer.probabilities],
            }))
            if inference_id is not None and self.capture is not None:
                text, media_type = output_fn(Prediction(probabilities, reviews.single, shadow.version), accept)
                self.capture.record(Event(shadow.name, body, content_type, text, media_type, inference_id, time.time()))


def create_app(
    model: Path | str | EndpointConfig,
    endpoint_name: str | None = None,
    max_payload_bytes: int = MAX_BODY_BYTES,
    timeout_s: float | None = None,
    on_activity: Callable[[], None] | None = None,
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
    max_batch_wait_ms: float = DEFAULT_MAX_WAIT_MS,
    on_load_failure: LoadFailure | None = None,
    weights_file: Path | None = None,
    capture: CaptureSettings | None = None,
) -> Starlette:
    """The container app for a model folder (one variant, ``AllTraffic``) or an endpoint config
    with its models resolved to folders. ``endpoint_name`` None answers InvokeEndpoint for any
    name; ``timeout_s`` None lets predictions run as long as they take; ``on_activity`` is called
    once the models are loaded and on every invocation (the server's idle clock).
    ``app.state.batcher`` is the first variant's batcher (add to its ``observers`` to see every
    batch size). ``on_load_failure`` loads the models in the background (see
    ``Container.lifespan``). ``weights_file`` is re-read when it changes (``variants.Router``);
    ``capture`` turns Data Capture on (it needs ``endpoint_name``). ``GET /metrics`` has the
    request metrics (labelled by variant), the batch sizes, the shadows' agreement and capture counts."""
    config = model if isinstance(model, EndpointConfig) else EndpointConfig.single(model)
    metrics = Metrics(variant_header=VARIANT_HEADER)
    container = Container(config, endpoint_name, max_payload_bytes, timeout_s, on_activity, metrics.registry,
                          (max_batch_size, max_batch_wait_ms), on_load_failure, weights_file, capture)
    routes = [
        Route("/ping", container.ping, methods=["GET"]),
        Route("/invocations", container.invocations, methods=["POST"]),
        Route("/explanations", container.explanations, methods=["POST"]),
        Route("/endpoints/{name}/invocations", container.invoke_endpoint, methods=["POST"]),
        openapi_route(endpoint_document(endpoint_name)),
    ]
    app = Starlette(routes=routes, lifespan=container.lifespan)
    instrument(app, metrics)
    app.state.batcher = next(iter(container.variants.values())).batcher
    for variant in container.every_variant:
        variant.batcher.observers.append(metrics.observe_batch_size)
    return app
