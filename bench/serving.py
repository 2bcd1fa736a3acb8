"""Benchmark: serving latency and throughput, our handler next to the original project's.

    python bench/serving.py [--requests 1000] [--concurrency 16] [--seconds 20] [--endpoint-workers N]
                            [--model DIR] [--seed-model DIR]

Rows: (1) the whole chain as the web page uses it (``sentiment-app serve``: gateway, Lambda
handler, boto3, endpoint, model), (2) that endpoint alone (``POST /invocations``: our model server,
with dynamic batching), (3) and (4) our handler and bench/original_handler.py, each behind the same
tiny per-request bench server (this file, run with ``--serve``: no batching), so those two rows
differ only in the handler: both load the ``lstm-seed`` weights (``--seed-model``, the original
recipe the original handler can read), while (1) and (2) serve ``--model`` (the default model).
Columns: p50/p99 of ``--requests`` sequential one-review requests on one persistent connection
(after warm-up), requests per second with ``--concurrency`` clients for ``--seconds``, errors
(non-200 answers and failed requests in both phases), req/s against (4). Then the endpoint targets
for (2) against (4), and the endpoint's batch sizes (from its ``/metrics``, summed over its
workers) during its concurrent phase. Then what variants and Data Capture add to (2)'s latency:
three endpoint servers of one worker each, side by side, with the same model: one plain, one
routing between two variants of it, one capturing 100 % of its invocations; their ``--requests``
sequential requests are interleaved (one to each in turn), so all three see the same moment of
the machine, and each one's p50 is set against the plain one's. Every server is a subprocess on a
free loopback port, stopped when its rows are done. The endpoint's batching settings come from the environment
(``SENTIMENT_APP_MAX_BATCH_SIZE``, ``SENTIMENT_APP_MAX_BATCH_WAIT_MS``,
``SENTIMENT_APP_TORCH_THREADS``).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType

import anyio.to_thread
import httpx
import numpy as np
import psutil
import uvloop
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sentiment_app.data.dataset import load_imdb, stratified_sample
from sentiment_app.errors import SentimentAppError
from sentiment_app.gateway.api.local_stack import stop_process, wait_until_ready
from sentiment_app.artifacts.locate import bundled_model_dir
from sentiment_app.serving.lifecycle import HOST, capture_options, free_port, server_command
from sentiment_app.serving.options import ServerOptions
from sentiment_app.settings import load_settings
from sentiment_app.serving.batching import DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_WAIT_MS
from sentiment_app.serving.variants import EndpointConfig

OURS, ORIGINAL = "sentiment_app.inference.handler", "original_handler"
TEXT = {"content-type": "text/plain"}  # exactly what the original input_fn accepts
WARMUP = 20
REVIEWS = 200
SEED = 1
REQUEST_TIMEOUT_S = 60.0
LOG_TAIL_LINES = 20
TARGET_P50_MS = 5.0
TARGET_SPEEDUP = 20.0
TARGET_ROUTING_MS = 0.1
TARGET_CAPTURE_MS = 0.3
BATCH_METRIC = "model_batch_size"
CAPTURED_METRIC = "data_capture_records_total"
DROPPED_METRIC = "data_capture_dropped_total"
BENCH_ENDPOINT = "bench"
FALLBACK_REVIEWS = (
    "A wonderful film: the acting is superb and the story kept me gripped until the very end.",
    "Dull, predictable and far too long. I nearly walked out halfway through.",
    "The photography is beautiful<br /><br />but the script is a mess and the ending made no sense.",
    "One of the best performances I have seen in years; I would happily watch it again.",
)


# -- the bench server (the child side, ``--serve MODULE``) ----------------------------------------

def handler_app(module: str, model_dir: Path) -> Starlette:
    """``/ping`` and ``/invocations`` around a SageMaker handler module, run as the toolkit runs it:
    model loaded once at startup, ``input_fn → predict_fn → output_fn`` in a worker thread, and an
    ``output_fn`` answer that is either a body or ``(body, content type)``."""
    handler = importlib.import_module(module)
    models: list[object] = []  # filled at startup: /ping answers 200 once the model is loaded

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        models.append(await anyio.to_thread.run_sync(handler.model_fn, str(model_dir)))
        yield

    def handle(body: bytes, content_type: str | None, accept: str | None) -> tuple[str, str]:
        result = handler.output_fn(handler.predict_fn(handler.input_fn(body, content_type), models[0]), accept)
        return result if isinstance(result, tuple) else (result, "text/plain")

    async def ping(request: Request) -> Response:
        return Response(status_code=200 if models else 503)

    async def invocations(request: Request) -> Response:
        body = await request.body()
        try:
            text, media_type = await anyio.to_thread.run_sync(
                handle, body, request.headers.get("content-type"), request.headers.get("accept")
            )
        except Exception as exc:  # the toolkit answers any handler exception with a 500
            return Response(f"{type(exc).__name__}: {exc}", status_code=500)
        return Response(text, media_type=media_type)

    return Starlette(routes=[Route("/ping", ping, methods=["GET"]), Route("/invocations", invocations, methods=["POST"])],
                     lifespan=lifespan)


# -- the load (the parent side) --------------------------------------------------------------------

@dataclass(eq=False)  # rows are compared by identity in the report
class Row:
    title: str
    latencies_s: np.ndarray
    rps: float
    errors: int
    warmup_answers: list[str]
    batches: tuple[float, float] | None = None  # model calls and reviews scored in the concurrent phase


def post(client: httpx.Client, url: str, body: bytes) -> httpx.Response | None:
    """The answer if it is a 200; ``None`` for anything else, so every failure counts as an error."""
    try:
        response = client.post(url, content=body, headers=TEXT)
    except httpx.HTTPError:
        return None
    return response if response.status_code == 200 else None


def sequential(url: str, bodies: list[bytes], count: int) -> tuple[list[str], np.ndarray, int]:
    """Warm-up answers, then the latency of ``count`` requests one after another on one connection."""
    with httpx.Client(timeout=REQUEST_TIMEOUT_S) as client:
        warmup = [post(client, url, bodies[i % len(bodies)]) for i in range(WARMUP)]
        latencies, errors = [], sum(r is None for r in warmup)
        for i in range(count):
            started = time.perf_counter()
            ok = post(client, url, bodies[i % len(bodies)]) is not None
            latencies.append(time.perf_counter() - started)
            errors += not ok
    return [r.text if r is not None else "" for r in warmup], np.array(latencies), errors


class _Client(asyncio.Protocol):
    """One keep-alive connection sending ``requests[first]``, ``requests[first + step]``, ...: the
    next request leaves as soon as the last answer is in (status line and Content-Length read,
    nothing else parsed), until the deadline."""

    def __init__(self, requests: list[bytes], first: int, step: int, deadline: float) -> None:
        self.requests, self.next, self.step, self.deadline = requests, first, step, deadline
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.buffer = b""
        self.answer_end: int | None = None  # where the answer being read ends in the buffer
        self.status = b""
        self.done = self.errors = 0
        self.in_flight = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.send()

    def send(self) -> None:
        assert self.transport is not None
        self.transport.write(self.requests[self.next % len(self.requests)])
        self.next += self.step
        self.in_flight = True

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.answer_end is None:
                head_end = self.buffer.find(b"\r\n\r\n")
                if head_end < 0:
                    return
                head = self.buffer[:head_end].lower()
                at = head.find(b"content-length:")
                length = int(head[at + 15:].split(b"\r\n", 1)[0]) if at >= 0 else 0
                self.status, self.answer_end = head[9:12], head_end + 4 + length
            if len(self.buffer) < self.answer_end:
                return
            self.buffer, self.answer_end, self.in_flight = self.buffer[self.answer_end:], None, False
            ok = self.status == b"200"
            self.done += ok
            self.errors += not ok
            if time.monotonic() >= self.deadline:
                assert self.transport is not None
                self.transport.close()
                return
            self.send()

    def connection_lost(self, exc: Exception | None) -> None:
        self.errors += self.in_flight  # an answer that never came
        if not self.closed.done():
            self.closed.set_result(None)


async def _client_loop(host: str, port: int, requests: list[bytes], first: int, step: int,
                       deadline: float) -> tuple[int, int]:
    """One client until the deadline; a dropped or refused connection is an error, then a new one."""
    loop = asyncio.get_running_loop()
    done = errors = 0
    while time.monotonic() < deadline:
        client = _Client(requests, first, step, deadline)
        try:
            await asyncio.wait_for(loop.create_connection(lambda: client, host, port), REQUEST_TIMEOUT_S)
            await asyncio.wait_for(asyncio.shield(client.closed), deadline - time.monotonic() + REQUEST_TIMEOUT_S)
        except (OSError, TimeoutError, asyncio.TimeoutError):
            errors += 1
            if client.transport is not None:
                client.transport.abort()
            await asyncio.sleep(0.01)  # a refused connection is not retried in a busy loop
        done, errors = done + client.done, errors + client.errors
        first = client.next
    return done, errors


def concurrent(url: str, bodies: list[bytes], clients: int, seconds: float) -> tuple[float, int]:
    """Completed requests per second with ``clients`` keep-alive connections, and errors. A request
    in flight at the deadline still finishes and counts, and so does its time. The clients share one
    event loop (uvloop) and send ready-made HTTP/1.1 requests, as wrk does: the load generator
    shares the cores with the servers, and a heavy one (threads with ``http.client`` cost several
    times the CPU per request) caps the fast rows, not the slow, so the lightest client measures
    the servers best."""
    parts = urllib.parse.urlsplit(url)
    host, port = parts.hostname or HOST, parts.port or 80
    requests = [f"POST {parts.path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: {TEXT['content-type']}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n".encode() + body for body in bodies]

    async def run_all() -> tuple[list[tuple[int, int]], float]:
        started = time.monotonic()
        deadline = started + seconds
        results = await asyncio.gather(*(_client_loop(host, port, requests, k, clients, deadline)
                                         for k in range(clients)))
        return results, time.monotonic() - started

    results, elapsed = uvloop.run(run_all())
    return sum(done for done, _ in results) / elapsed, sum(errors for _, errors in results)


def metric_samples(metrics_url: str) -> dict[str, float]:
    """Every sample of the server's ``/metrics``, by name, summed over its labels."""
    from prometheus_client.parser import text_string_to_metric_families

    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(httpx.get(metrics_url, timeout=REQUEST_TIMEOUT_S).text):
        for sample in family.samples:
            totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return totals


def batch_totals(metrics_url: str) -> tuple[float, float]:
    """``(model calls, reviews)`` so far, from the endpoint's ``model_batch_size`` histogram."""
    values = metric_samples(metrics_url)
    if f"{BATCH_METRIC}_count" not in values:
        raise SystemExit(f"{metrics_url} has no {BATCH_METRIC} histogram")
    return values[f"{BATCH_METRIC}_count"], values[f"{BATCH_METRIC}_sum"]


def measure(title: str, url: str, bodies: list[bytes], args: argparse.Namespace, metrics_url: str | None = None) -> Row:
    print(f"  {title} ...", file=sys.stderr, flush=True)
    warmup, latencies, errors = sequential(url, bodies, args.requests)
    before = batch_totals(metrics_url) if metrics_url else None
    rps, more_errors = concurrent(url, bodies, args.concurrency, args.seconds)
    batches = None
    if before is not None and metrics_url:
        after = batch_totals(metrics_url)
        batches = (after[0] - before[0], after[1] - before[1])
    return Row(title, latencies, rps, errors + more_errors, warmup, batches)


# -- servers ---------------------------------------------------------------------------------------

def stop_tree(process: subprocess.Popen[bytes]) -> None:
    """Stop a server and then whatever it started and left behind (the stack's endpoint, if the
    stack itself had to be killed): no orphan keeps a port or a core busy."""
    try:
        descendants = psutil.Process(process.pid).children(recursive=True)
    except psutil.Error:
        descendants = []
    stop_process(process)
    for child in descendants:
        with suppress(psutil.Error):
            child.kill()
    psutil.wait_procs(descendants, timeout=5)


@contextmanager
def running(command: list[str], ready_url: str, log: Path) -> Iterator[None]:
    """A server subprocess (output to ``log``) that answers ``ready_url``; stopped however the block ends."""
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    try:
        try:
            wait_until_ready(ready_url, process)
        except SentimentAppError as exc:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:])
            raise SystemExit(f"{' '.join(command)}: {exc}\n{tail}") from exc
        yield
    finally:
        stop_tree(process)


def stack_rows(model: Path, bodies: list[bytes], args: argparse.Namespace, work: Path) -> list[Row]:
    """Rows (1) and (2) from one ``sentiment-app serve``: its gateway, then its endpoint directly, with
    ``--endpoint-workers`` worker processes (SageMaker's default: one per CPU). Batch sizes come from
    the endpoint's ``/metrics``, which sum all workers."""
    port, endpoint_port = free_port(HOST), free_port(HOST)
    gateway, endpoint = f"http://{HOST}:{port}", f"http://{HOST}:{endpoint_port}"
    command = [sys.executable, "-m", "sentiment_app", "serve", "--home", str(work / "home"), "--model", str(model),
               "--host", HOST, "--port", str(port), "--endpoint-port", str(endpoint_port)]
    with running(command, f"{gateway}/config.js", work / "stack.log"):
        return [measure("(1) whole chain: POST /api/sentiment", f"{gateway}/api/sentiment", bodies, args),
                measure("(2) endpoint alone: POST /invocations", f"{endpoint}/invocations", bodies, args,
                        f"{endpoint}/metrics")]


def handler_row(title: str, module: str, model: Path, bodies: list[bytes], args: argparse.Namespace, work: Path) -> Row:
    port = free_port(HOST)
    url = f"http://{HOST}:{port}"
    command = [sys.executable, __file__, "--serve", module, "--port", str(port), "--model", str(model)]
    with running(command, f"{url}/ping", work / f"{module}.log"):
        return measure(title, f"{url}/invocations", bodies, args)


def interleaved(urls: list[str], bodies: list[bytes], count: int) -> tuple[list[np.ndarray], list[int]]:
    """Latencies of ``count`` sequential requests to each URL (one persistent connection each, after
    warm-up), sent to each in turn, the first of each round moving on, so slow moments of the
    machine fall on all of them alike; and each URL's errors."""
    clients = [httpx.Client(timeout=REQUEST_TIMEOUT_S) for _ in urls]
    latencies: list[list[float]] = [[] for _ in urls]
    errors = [0] * len(urls)
    try:
        for k, (client, url) in enumerate(zip(clients, urls)):
            errors[k] += sum(post(client, url, bodies[i % len(bodies)]) is None for i in range(WARMUP))
        for i in range(count):
            for step in range(len(urls)):
                k = (i + step) % len(urls)
                started = time.perf_counter()
                ok = post(clients[k], urls[k], bodies[i % len(bodies)]) is not None
                latencies[k].append(time.perf_counter() - started)
                errors[k] += not ok
    finally:
        for client in clients:
            client.close()
    return [np.array(row) for row in latencies], errors


@dataclass
class Overheads:
    """What routing between variants and 100 % Data Capture add to one endpoint's latency."""

    titles: list[str]
    latencies_s: list[np.ndarray]
    errors: list[int]
    captured: float
    dropped: float


def overhead_rows(model: Path, bodies: list[bytes], args: argparse.Namespace, work: Path) -> Overheads:
    """A plain endpoint, one with two variants of the same model, one capturing every invocation:
    one worker each, all running at once, measured interleaved."""
    plain = EndpointConfig.single(model)
    setups = {
        "(2p) one variant, no capture": (plain, []),
        "(2v) two variants of it": (EndpointConfig.parse([f"A={model}:1", f"B={model}:1"]), []),
        "(2c) one variant, 100 % capture": (plain, capture_options(100, str(work / "store"))),
    }
    ports = [free_port(HOST) for _ in setups]
    urls = [f"http://{HOST}:{port}" for port in ports]
    print("  (2p), (2v), (2c) interleaved ...", file=sys.stderr, flush=True)
    with ExitStack() as servers:
        for k, (port, (config, options)) in enumerate(zip(ports, setups.values())):
            command = server_command(config, ServerOptions(HOST, port, BENCH_ENDPOINT), options)
            servers.enter_context(running(command, f"{urls[k]}/ping", work / f"overhead-{k}.log"))
        latencies, errors = interleaved([f"{url}/invocations" for url in urls], bodies, args.requests)
        capture = metric_samples(f"{urls[2]}/metrics")
    return Overheads(list(setups), latencies, errors, capture.get(CAPTURED_METRIC, 0.0),
                     capture.get(DROPPED_METRIC, 0.0))


def report_overheads(overheads: Overheads, requests: int) -> None:
    p50s = [float(np.median(row)) * 1000 for row in overheads.latencies_s]
    width = max(map(len, overheads.titles)) + 2
    print(f"\nVariants and Data Capture: one worker each, {requests} interleaved sequential requests per row")
    print(f"{'row':<{width}}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'p50 added ms':>15}")
    targets = [None, TARGET_ROUTING_MS, TARGET_CAPTURE_MS]
    for title, row, p50, errors, target in zip(overheads.titles, overheads.latencies_s, p50s, overheads.errors, targets):
        p99 = float(np.percentile(row, 99)) * 1000
        added = "" if target is None else f"{p50 - p50s[0]:+.3f}"
        verdict = "" if target is None else f"  (target <= {target:g}: {'met' if p50 - p50s[0] <= target else 'NOT met'})"
        print(f"{title:<{width}}{p50:>9.3f}{p99:>9.3f}{errors:>8}{added:>15}{verdict}")
    print(f"(2c) wrote {overheads.captured:.0f} capture records ({overheads.dropped:.0f} dropped by a full queue).")


def request_bodies(data: Path | None) -> tuple[list[bytes], str]:
    """``REVIEWS`` real test reviews (a seeded, label-balanced sample), else a few built-in ones."""
    try:
        if data is None:
            raise SentimentAppError("no data folder given")
        texts = stratified_sample(load_imdb(data)["test"], REVIEWS, SEED).texts
        where = f"{len(texts)} test reviews from {data}"
    except SentimentAppError:
        texts = list(FALLBACK_REVIEWS)
        where = f"{len(texts)} built-in reviews ({data} has no IMDB data)"
    return [text.encode("utf-8") for text in texts], where


def same_labels(ours: Row, original: Row) -> int:
    """Warm-up reviews both handlers label alike (ours answers JSON, the original "1.0"/"0.0")."""
    ours_positive = ['"positive"' in answer for answer in ours.warmup_answers]
    original_positive = [answer.strip() == "1.0" for answer in original.warmup_answers]
    return sum(a == b for a, b in zip(ours_positive, original_positive))


def report(rows: list[Row], requests: int, concurrency: int, seconds: float) -> None:
    endpoint, ours, original = rows[1], rows[2], rows[3]
    width = max(len(row.title) for row in rows) + 2
    print(f"\n{'':<{width}}{f'{requests} sequential':>18}{f'{concurrency} clients, {seconds:g} s':>22}")
    print(f"{'row':<{width}}{'p50 ms':>9}{'p99 ms':>9}{'req/s':>11}{'errors':>11}{'req/s vs original':>20}")
    for row in rows:
        p50, p99 = (float(np.percentile(row.latencies_s, q)) * 1000 for q in (50, 99))
        speedup = f"{row.rps / original.rps:.1f}x" if original.rps else ""
        print(f"{row.title:<{width}}{p50:>9.1f}{p99:>9.1f}{row.rps:>11.1f}{row.errors:>11}{speedup:>20}")
    p50_ratio = np.median(original.latencies_s) / np.median(ours.latencies_s)
    print(f"\n(3) vs (4): same bench server, same weights, only the handler differs; p50 {p50_ratio:.1f}x lower "
          f"with ours; same label for {same_labels(ours, original)} of {WARMUP} warm-up reviews.")
    endpoint_p50 = float(np.median(endpoint.latencies_s)) * 1000
    speedup = endpoint.rps / original.rps if original.rps else float("inf")
    print(f"(2) vs (4), endpoint targets: one-review p50 {endpoint_p50:.1f} ms (target <= {TARGET_P50_MS:g}: "
          f"{'met' if endpoint_p50 <= TARGET_P50_MS else 'NOT met'}); {speedup:.1f}x the req/s with {concurrency} "
          f"clients (target >= {TARGET_SPEEDUP:g}x: {'met' if speedup >= TARGET_SPEEDUP else 'NOT met'}).")
    if endpoint.batches and endpoint.batches[0]:
        calls, reviews = endpoint.batches
        print(f"(2) batching in its concurrent phase: {reviews:.0f} reviews in {calls:.0f} model calls, "
              f"{reviews / calls:.1f} reviews per call on average.")


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """Turn SIGTERM into SystemExit so the ``finally`` blocks stop every server."""
    raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="sequential requests per row for p50/p99")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients for req/s")
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of the concurrent phase per row")
    parser.add_argument("--model", type=Path, default=bundled_model_dir(), help="model for (1), (2) [bundled default]")
    parser.add_argument("--seed-model", type=Path, default=bundled_model_dir("lstm-seed"),
                        help="lstm-seed model for (3), (4) [bundled lstm-seed]")
    parser.add_argument("--endpoint-workers", type=int, default=os.cpu_count() or 1,
                        help="worker processes of the endpoint in (1), (2) [one per CPU, as SageMaker]")
    parser.add_argument("--data", type=Path, default=load_settings().data,
                        help="IMDB data for request bodies [SENTIMENT_APP_DATA]")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.requests < 1 or args.concurrency < 1 or args.endpoint_workers < 1 or args.seconds <= 0:
        parser.error("--requests, --concurrency and --endpoint-workers must be at least 1, --seconds above 0")
    if args.serve:
        import uvicorn

        uvicorn.run(handler_app(args.serve, args.model), host=HOST, port=args.port)
        return

    import torch  # only for the info line: the servers keep torch's default thread count

    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    os.environ["SAGEMAKER_MODEL_SERVER_WORKERS"] = str(args.endpoint_workers)  # read by the endpoint `serve` starts
    bodies, where = request_bodies(args.data)
    print(f"{datetime.now().astimezone().isoformat(timespec='seconds')}; {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}; torch {torch.__version__}, {torch.get_num_threads()} threads per bench server; "
          f"endpoint: {args.endpoint_workers} worker(s), batching: at most {os.environ.get('SENTIMENT_APP_MAX_BATCH_SIZE', DEFAULT_MAX_BATCH_SIZE)} reviews, "
          f"wait {os.environ.get('SENTIMENT_APP_MAX_BATCH_WAIT_MS', DEFAULT_MAX_WAIT_MS)} ms, "
          f"{os.environ.get('SENTIMENT_APP_TORCH_THREADS', 1)} torch thread(s); bodies: {where}; model {args.model}, seed model {args.seed_model}")
    with tempfile.TemporaryDirectory(prefix="sa-bench-serving-") as tmp:
        work = Path(tmp)
        rows = stack_rows(args.model, bodies, args, work)
        rows.append(handler_row("(3) ours: bench server + inference.handler", OURS, args.seed_model, bodies, args, work))
        rows.append(handler_row("(4) original: bench server + original_handler", ORIGINAL, args.seed_model, bodies, args,
                                work))
        overheads = overhead_rows(args.model, bodies, args, work)
    report(rows, args.requests, args.concurrency, args.seconds)
    report_overheads(overheads, args.requests)


if __name__ == "__main__":
    main()
