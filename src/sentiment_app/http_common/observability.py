"""Request ids, one JSON log line per request, and Prometheus metrics, for the endpoint and the gateway.

``instrument(app)`` adds all of it to a Starlette app in one call: an ASGI middleware that gives each
request an id (an incoming ``x-amzn-RequestId`` or ``x-request-id`` is kept, else a new UUID; the
answer carries it back in both headers), times, logs and counts it, and a ``GET /metrics`` route in
the Prometheus text format. Every app gets its own ``CollectorRegistry``, so two apps in one process
(``serve``, tests) never share or clash over counters. A server with several worker processes sets
``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's multiprocess mode): each worker then writes its
values to files there and any worker's ``/metrics`` answers for all of them, summed. A log line
holds the method, path (no query string), status and latency, never a body or a header: API keys
travel in ``x-api-key``.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import time
import uuid
from datetime import datetime, timezone

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.applications import Starlette
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_LOG = logging.getLogger("sentiment_app.requests")
REQUEST_ID_HEADERS = ("x-amzn-requestid", "x-request-id")
_USABLE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")  # a caller's id is echoed in headers and logs: keep it tame
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
MAX_LOGGED_PATH = 256
MULTIPROCESS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client reads it when first imported


def new_request_id() -> str:
    """A random (version 4) UUID. ``uuid.uuid4()`` asks the kernel for 16 bytes on every call, a
    system call that took a tenth of an endpoint worker's profile samples under load here; a request
    id need not be secret.
    The ``random`` module's own generator is seeded from the kernel at start and again after a fork."""
    return str(uuid.UUID(int=random.getrandbits(128), version=4))


class Metrics:
    """The counters of one app, in a registry of its own. With a ``variant_header`` (the model
    server's), requests, errors and latency also carry a ``variant`` label: that header's value in
    the answer, empty where the answer has none."""

    def __init__(self, variant_header: str | None = None) -> None:
        self.registry = CollectorRegistry()
        self.variant_header = variant_header
        labels = ["route", "method", *(["variant"] if variant_header else [])]
        self.requests = Counter("http_requests", "Requests answered, by route template, method and status.",
                                [*labels, "status"], registry=self.registry)
        self.errors = Counter("http_request_errors", "Requests answered 4xx (kind client) or 5xx (kind server).",
                              [*labels, "kind"], registry=self.registry)
        self.latency = Histogram("http_request_duration_seconds", "Time from request to the end of the answer.",
                                 labels, buckets=LATENCY_BUCKETS, registry=self.registry)
        self.in_flight = Gauge("http_requests_in_flight", "Requests being answered now (a scrape counts itself).",
                               registry=self.registry, multiprocess_mode="livesum")
        self.batch_sizes = Histogram("model_batch_size", "Reviews per model forward pass (the endpoint's only).",
                                     buckets=BATCH_BUCKETS, registry=self.registry)

    def observe_batch_size(self, size: int) -> None:
        """The hook the model server calls once per forward pass with the number of reviews in it."""
        self.batch_sizes.observe(size)

    def record(self, route: str, method: str, status: int, seconds: float, variant: str | None = None) -> None:
        labels = (route, method) if variant is None else (route, method, variant)
        self.requests.labels(*labels, str(status)).inc()
        self.latency.labels(*labels).observe(seconds)
        if status >= 400:
            self.errors.labels(*labels, "client" if status < 500 else "server").inc()

    def scraped(self) -> CollectorRegistry:
        """This app's registry; in multiprocess mode, one that reads every worker's files instead."""
        folder = os.environ.get(MULTIPROCESS_DIR_ENV)
        if not folder:
            return self.registry
        registry = CollectorRegistry()
        MultiProcessCollector(registry, folder)
        return registry

    async def endpoint(self, request: Request) -> Response:
        return Response(generate_latest(self.scraped()), media_type=CONTENT_TYPE_PLAIN_0_0_4)


def route_label(routes: list[BaseRoute], scope: Scope) -> str:
    """The matching route's template (``/endpoints/{name}/invocations``), so labels stay few whatever the paths."""
    for route in routes:
        match, _ = route.matches(scope)
        if match is not Match.NONE:
            if isinstance(route, Mount):
                return f"{route.path}/*"
            return route.path if isinstance(route, Route) else type(route).__name__
    return "unmatched"


def request_id_of(request: Request) -> str:
    """The id :class:`RequestObserver` gave this request (a new one if the app runs without it)."""
    return request.scope.get("state", {}).get("request_id") or new_request_id()


def _incoming_id(scope: Scope) -> str | None:
    headers = Headers(scope=scope)
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name, "")
        if _USABLE_ID.fullmatch(value):
            return value
    return None


class RequestObserver:
    """ASGI middleware: request id in and out, one JSON log line and the metrics for every request."""

    def __init__(self, app: ASGIApp, metrics: Metrics, routes: list[BaseRoute]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        # Read before the router adds its own keys to the scope.
        route, method, path = route_label(self.routes, scope), scope["method"], scope["path"]
        rid = _incoming_id(scope) or new_request_id()
        scope.setdefault("state", {})["request_id"] = rid
        status, done = 500, False  # 500 unless the app answers: an exception becomes ServerErrorMiddleware's 500
        variant_header = self.metrics.variant_header
        variant = "" if variant_header else None

        def finish() -> None:
            """Count and log the request once, before its last byte leaves, so a caller never sees an
            answer that the log and the metrics do not hold yet."""
            nonlocal done
            if done:
                return
            done = True
            seconds = time.perf_counter() - started
            self.metrics.in_flight.dec()
            self.metrics.record(route, method, status, seconds, variant)
            REQUEST_LOG.info(json.dumps({
                "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                "request_id": rid,
                "method": method,
                "path": path[:MAX_LOGGED_PATH],
                "route": route,
                "status": status,
                "latency_ms": round(seconds * 1000, 2),
            }))

        async def send_observed(message: Message) -> None:
            nonlocal status, variant
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["x-amzn-RequestId"] = rid
                headers["x-request-id"] = rid
                if variant_header:
                    variant = headers.get(variant_header, "")
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                finish()
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send_observed)
        finally:
            finish()


def instrument(app: Starlette, metrics: Metrics | None = None) -> Metrics:
    """Serve ``GET /metrics`` and observe every request of ``app`` (into ``metrics``, else new ones).
    Call it after adding the app's other middleware, so that this one is outermost and also sees the
    answers they give themselves."""
    metrics = metrics or Metrics()
    app.router.routes.insert(0, Route("/metrics", metrics.endpoint, methods=["GET"]))  # before any catch-all mount
    app.add_middleware(RequestObserver, metrics=metrics, routes=app.router.routes)
    return metrics


def log_requests_as_json_lines() -> None:
    """For a server process: request records go to stderr as bare JSON lines, not in the root log format."""
    if REQUEST_LOG.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    REQUEST_LOG.addHandler(handler)
    REQUEST_LOG.setLevel(logging.INFO)
    REQUEST_LOG.propagate = False
