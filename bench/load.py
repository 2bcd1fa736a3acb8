"""Load test: sustained requests per second, errors, tail latency and server memory under many clients.

    python bench/load.py [--clients 64] [--seconds 60] [--target gateway|endpoint] [--model DIR]

Starts ``sentiment-app serve`` (gateway + Lambda handler + endpoint, each on a free loopback port),
warms it up, then runs ``--clients`` concurrent keep-alive clients (asyncio + httpx, one connection
each) that post real test reviews back to back for ``--seconds``. Prints one table: completed
requests, requests per second, errors (anything but a 200, and failed connections) and error rate,
latency p50/p99/max, and the resident memory (RSS) of the server's process tree after warm-up and at
the end, so a leak shows as growth. Bounded in time: a request still open ``--timeout`` seconds
after the deadline counts as an error.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
import numpy as np
import psutil

from serving import request_bodies, running
from sentiment_app.artifacts.locate import bundled_model_dir
from sentiment_app.serving.lifecycle import HOST, free_port

TEXT = {"content-type": "text/plain"}
WARMUP = 50
MB = 1024 * 1024


@dataclass
class Tally:
    latencies_s: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str) -> None:
        self.statuses[outcome] = self.statuses.get(outcome, 0) + 1


async def client_loop(client: httpx.AsyncClient, url: str, bodies: list[bytes], first: int, step: int,
                      deadline: float, tally: Tally) -> None:
    """One client: post, wait for the answer, post the next, until the deadline."""
    i = first
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            response = await client.post(url, content=bodies[i % len(bodies)], headers=TEXT)
            outcome = str(response.status_code)
        except httpx.HTTPError as exc:
            outcome = type(exc).__name__
        tally.latencies_s.append(time.perf_counter() - started)
        tally.count(outcome)
        tally.errors += outcome != "200"
        i += step


@dataclass
class Result:
    tally: Tally
    elapsed_s: float
    rss_start: int
    rss_end: int


async def load(url: str, bodies: list[bytes], clients: int, seconds: float, timeout: float, pid: int) -> Result:
    """Warm up (model loaded, caches filled), read the server's memory, then the timed load."""
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:
        for i in range(WARMUP):
            await client.post(url, content=bodies[i % len(bodies)], headers=TEXT)
        rss_start = tree_rss(pid)
        tally = Tally()
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(*(client_loop(client, url, bodies, i, clients, deadline, tally) for i in range(clients)))
        elapsed = time.monotonic() - started
    return Result(tally, elapsed, rss_start, tree_rss(pid))


def report(result: Result, clients: int) -> None:
    tally = result.tally
    done = len(tally.latencies_s)
    p50, p99, worst = (float(np.percentile(tally.latencies_s, q)) * 1000 for q in (50, 99, 100))
    growth = (result.rss_end - result.rss_start) / MB
    print("\n| clients | seconds | requests | req/s | errors | error rate | p50 ms | p99 ms | max ms "
          "| RSS start MB | RSS end MB | growth MB |")
    print("|" + "---|" * 12)
    print(f"| {clients} | {result.elapsed_s:.1f} | {done} | {done / result.elapsed_s:.1f} | {tally.errors} "
          f"| {tally.errors / max(done, 1):.2%} | {p50:.1f} | {p99:.1f} | {worst:.1f} "
          f"| {result.rss_start / MB:.0f} | {result.rss_end / MB:.0f} | {growth:+.1f} |")
    print(f"answers: {dict(sorted(tally.statuses.items()))}")


def tree_rss(pid: int) -> int:
    """Resident memory of a process and all its descendants (the gateway and its endpoint)."""
    root = psutil.Process(pid)
    total = 0
    for process in [root, *root.children(recursive=True)]:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            pass
    return total


def server_pid(port: int) -> int:
    """The process listening on ``port`` (the server started by ``running``)."""
    for conn in psutil.net_connections("tcp"):
        if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN and conn.pid:
            return conn.pid
    raise SystemExit(f"no process listens on port {port}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--target", choices=["gateway", "endpoint"], default="gateway",
                        help="gateway: the whole chain (POST /api/sentiment); endpoint: POST /invocations")
    parser.add_argument("--timeout", type=float, default=30.0, help="per-request timeout in seconds")
    parser.add_argument("--model", type=Path, default=bundled_model_dir(), help="model directory [bundled model]")
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("SENTIMENT_APP_DATA", "../shared/data")))
    args = parser.parse_args()
    if args.clients < 1 or args.seconds <= 0:
        parser.error("--clients must be at least 1 and --seconds above 0")

    bodies, where = request_bodies(args.data)
    print(f"{datetime.now().astimezone().isoformat(timespec='seconds')}; {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}; {args.clients} clients for {args.seconds:g} s against the {args.target}; "
          f"bodies: {where}; model {args.model}", flush=True)
    port, endpoint_port = free_port(HOST), free_port(HOST)
    url = (f"http://{HOST}:{port}/api/sentiment" if args.target == "gateway"
           else f"http://{HOST}:{endpoint_port}/invocations")
    with tempfile.TemporaryDirectory(prefix="sa-bench-load-") as tmp:
        command = [sys.executable, "-m", "sentiment_app", "serve", "--home", f"{tmp}/home", "--model", str(args.model),
                   "--host", HOST, "--port", str(port), "--endpoint-port", str(endpoint_port)]
        with running(command, f"http://{HOST}:{port}/config.js", Path(tmp) / "serve.log"):
            result = asyncio.run(load(url, bodies, args.clients, args.seconds, args.timeout, server_pid(port)))
    report(result, args.clients)


if __name__ == "__main__":
    main()
