"""Load test: sustained requests per second, tail latency, errors and server memory under many connections.

    python bench/load.py [--connections 64] [--duration 60] [--concurrency N] [--model DIR] [--data DIR]

Starts ``sentiment-app serve`` (gateway, ``--concurrency`` Lambda execution environments, and the
endpoint with one worker per core, as SageMaker runs it), each on a free loopback port, warms it up
with the full load, then measures three rows, each for ``--duration`` seconds with ``--connections``
keep-alive connections posting real test reviews back to back:

1. the whole chain, ``POST /api/sentiment``, driven by wrk (C, one thread: the lightest client, so
   the servers get the cores);
2. the whole chain again, driven by a Python client (asyncio + httpx, one connection per client):
   a second opinion from a heavier client;
3. the endpoint alone, ``POST /invocations``, driven by wrk.

One table: requests, req/s, latency p50/p99, answers (2xx, 429 from the gateway's throttling, any
other status or failed connection), the CPU time the whole server tree (gateway + environments +
endpoint) spent per request, and its resident memory (RSS) before and after each row, so a leak
shows as growth; then the goals, met or not. wrk is installed with ``apt-get install -y wrk`` when missing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
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
WARMUP_S = 5  # every environment started and warm, caches filled, before anything is measured
MB = 1024 * 1024
RESULT_MARK = "WRK-RESULT "
CHAIN_GOAL_RPS, CHAIN_GOAL_P99_MS, GOAL_GROWTH_MB = 1000.0, 100.0, 20.0
ENDPOINT_GOAL_RPS, ENDPOINT_GOAL_P99_MS = 4000.0, 20.0

# Rotates through the review files; counts answers by status in each thread, summed at the end.
WRK_SCRIPT = """
local folder, count, threads = %(folder)s, %(count)d, {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  bodies, sent, statuses = {}, 0, {}
  for i = 1, count do
    local file = assert(io.open(folder .. "/" .. i, "rb"))
    bodies[i] = wrk.format("POST", nil, {["Content-Type"] = "text/plain"}, file:read("*a"))
    file:close()
  end
end
function request()
  sent = sent + 1
  return bodies[sent %% count + 1]
end
function response(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
function done(summary, latency, requests)
  local counts, parts = {}, {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do counts[status] = (counts[status] or 0) + n end
  end
  for status, n in pairs(counts) do table.insert(parts, string.format('"%%d": %%d', status, n)) end
  local e = summary.errors
  io.write(string.format('%(mark)s{"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, '
    .. '"failed": %%d, "statuses": {%%s}}\\n', summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(99), e.connect + e.read + e.write + e.timeout, table.concat(parts, ", ")))
end
"""


@dataclass
class Row:
    title: str
    connections: int
    seconds: float
    requests: int
    p50_ms: float
    p99_ms: float
    statuses: dict[str, int]  # HTTP status (or the kind of failure) -> answers
    rss_before: int = 0
    rss_after: int = 0
    server_cpu_s: float = 0.0  # CPU time the server tree spent during the row

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if status.startswith("2"))

    @property
    def throttled(self) -> int:
        return self.statuses.get("429", 0)

    @property
    def other_errors(self) -> int:
        return sum(self.statuses.values()) - self.ok - self.throttled

    @property
    def growth_mb(self) -> float:
        return (self.rss_after - self.rss_before) / MB

    @property
    def cpu_ms_per_request(self) -> float:
        return self.server_cpu_s * 1000 / max(self.requests, 1)


# -- wrk -------------------------------------------------------------------------------------------

def ensure_wrk() -> str:
    """wrk's path, installing it with apt-get first when it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is not installed: running `apt-get install -y wrk` ...", file=sys.stderr, flush=True)
    try:
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, stdout=subprocess.DEVNULL)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise SystemExit(f"bench/load.py needs the load generator wrk, and `apt-get install -y wrk` failed ({exc}). "
                         "Install wrk yourself (Debian/Ubuntu: `sudo apt-get install wrk`; macOS: `brew install wrk`) "
                         "and run the bench again.") from exc
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("`apt-get install -y wrk` succeeded but no wrk is on the PATH; install wrk and rerun.")
    return found


def wrk_script(bodies: list[bytes], folder: Path) -> Path:
    """The bodies as files 1..n and the Lua script that sends them in turn and counts answers."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, body in enumerate(bodies, 1):
        (folder / str(i)).write_bytes(body)
    script = folder / "load.lua"
    script.write_text(WRK_SCRIPT % {"folder": json.dumps(str(folder)), "count": len(bodies), "mark": RESULT_MARK})
    return script


def run_wrk(wrk: str, script: Path, url: str, title: str, connections: int, seconds: int, timeout: float) -> Row:
    command = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout:g}s", "-s", str(script), url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + timeout + 60)
    line = next((line for line in done.stdout.splitlines() if line.startswith(RESULT_MARK)), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(f"{' '.join(command)} failed (status {done.returncode}):\n{done.stdout}{done.stderr}")
    result = json.loads(line[len(RESULT_MARK):])
    statuses: dict[str, int] = result["statuses"]  # JSON keys are strings already
    if result["failed"]:
        statuses["failed connection"] = result["failed"]
    return Row(title, connections, result["duration_us"] / 1e6, result["requests"], result["p50_us"] / 1000,
               result["p99_us"] / 1000, statuses)


# -- the Python client -----------------------------------------------------------------------------

@dataclass
class Tally:
    latencies_s: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)


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
        tally.statuses[outcome] = tally.statuses.get(outcome, 0) + 1
        i += step


async def python_load(url: str, bodies: list[bytes], connections: int, seconds: float, timeout: float) -> Row:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:
        tally = Tally()
        started = time.monotonic()
        await asyncio.gather(*(client_loop(client, url, bodies, i, connections, started + seconds, tally)
                               for i in range(connections)))
        elapsed = time.monotonic() - started
    p50, p99 = (float(np.percentile(tally.latencies_s, q)) * 1000 for q in (50, 99))
    return Row("whole chain, Python client: POST /api/sentiment", connections, elapsed, len(tally.latencies_s),
               p50, p99, tally.statuses)


# -- the servers -----------------------------------------------------------------------------------

def tree_usage(pid: int) -> tuple[int, float]:
    """Resident memory and CPU seconds so far of a process and all its descendants (gateway,
    environments, endpoint)."""
    root = psutil.Process(pid)
    rss, cpu = 0, 0.0
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
            rss += process.memory_info().rss
            cpu += times.user + times.system
        except psutil.Error:
            pass
    return rss, cpu


def server_pid(port: int) -> int:
    """The process listening on ``port`` (the server started by ``running``)."""
    for conn in psutil.net_connections("tcp"):
        if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN and conn.pid:
            return conn.pid
    raise SystemExit(f"no process listens on port {port}")


def measured(pid: int, measure: Callable[[], Row]) -> Row:
    """A row with the server tree's memory read just before and just after it, and the CPU it used:
    on a machine shared with other work, CPU per request says more than requests per second."""
    rss_before, cpu_before = tree_usage(pid)
    row = measure()
    rss_after, cpu_after = tree_usage(pid)
    row.rss_before, row.rss_after, row.server_cpu_s = rss_before, rss_after, cpu_after - cpu_before
    return row


# -- the report ------------------------------------------------------------------------------------

def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def report(rows: list[Row]) -> None:
    print("\n| row | conns | s | requests | req/s | p50 ms | p99 ms | 2xx | 429 | other errors "
          "| server CPU ms/req | RSS before MB | RSS after MB | growth MB |")
    print("|" + "---|" * 14)
    for row in rows:
        print(f"| {row.title} | {row.connections} | {row.seconds:.1f} | {row.requests} | {row.rps:.1f} "
              f"| {row.p50_ms:.1f} | {row.p99_ms:.1f} | {row.ok} | {row.throttled} | {row.other_errors} "
              f"| {row.cpu_ms_per_request:.2f} | {row.rss_before / MB:.0f} | {row.rss_after / MB:.0f} "
              f"| {row.growth_mb:+.1f} |")
    for row in rows:
        others = {status: n for status, n in row.statuses.items() if not status.startswith("2") and status != "429"}
        if others:
            print(f"{row.title}: other answers {dict(sorted(others.items()))}")
    chain, endpoint = rows[0], rows[-1]
    print(f"\nwhole chain (wrk): {chain.rps:.0f} req/s (goal >= {CHAIN_GOAL_RPS:g}: {verdict(chain.rps >= CHAIN_GOAL_RPS)}), "
          f"p99 {chain.p99_ms:.1f} ms (goal <= {CHAIN_GOAL_P99_MS:g}: {verdict(chain.p99_ms <= CHAIN_GOAL_P99_MS)}), "
          f"errors other than 429: {chain.other_errors} ({verdict(chain.other_errors == 0)}), "
          f"memory growth {chain.growth_mb:+.1f} MB (goal <= {GOAL_GROWTH_MB:g}: {verdict(chain.growth_mb <= GOAL_GROWTH_MB)})")
    print(f"endpoint alone (wrk): {endpoint.rps:.0f} req/s (goal >= {ENDPOINT_GOAL_RPS:g}: "
          f"{verdict(endpoint.rps >= ENDPOINT_GOAL_RPS)}), p99 {endpoint.p99_ms:.1f} ms "
          f"(goal <= {ENDPOINT_GOAL_P99_MS:g}: {verdict(endpoint.p99_ms <= ENDPOINT_GOAL_P99_MS)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=64, help="concurrent keep-alive connections per row")
    parser.add_argument("--duration", type=int, default=60, help="seconds per row")
    parser.add_argument("--concurrency", type=int, help="Lambda execution environments [serve's default: one per core]")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds before a request counts as failed")
    parser.add_argument("--model", type=Path, default=bundled_model_dir(), help="model directory [bundled model]")
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("SENTIMENT_APP_DATA", "../shared/data")))
    args = parser.parse_args()
    if args.connections < 1 or args.duration < 1 or (args.concurrency is not None and args.concurrency < 1):
        parser.error("--connections, --duration and --concurrency must be at least 1")

    wrk = ensure_wrk()
    bodies, where = request_bodies(args.data)
    cores = os.cpu_count() or 1
    os.environ["SAGEMAKER_MODEL_SERVER_WORKERS"] = str(cores)  # read by the endpoint `serve` starts
    print(f"{datetime.now().astimezone().isoformat(timespec='seconds')}; {cores} cores, load "
          f"{os.getloadavg()[0]:.1f}; {args.connections} connections, {args.duration} s per row; execution "
          f"environments: {args.concurrency or 'one per core'}; endpoint workers: {cores}; bodies: {where}; "
          f"model {args.model}", flush=True)
    port, endpoint_port = free_port(HOST), free_port(HOST)
    chain, endpoint = f"http://{HOST}:{port}/api/sentiment", f"http://{HOST}:{endpoint_port}/invocations"
    with tempfile.TemporaryDirectory(prefix="sa-bench-load-") as tmp:
        script = wrk_script(bodies, Path(tmp) / "bodies")
        command = [sys.executable, "-m", "sentiment_app", "serve", "--home", f"{tmp}/home", "--model", str(args.model),
                   "--host", HOST, "--port", str(port), "--endpoint-port", str(endpoint_port),
                   *(["--concurrency", str(args.concurrency)] if args.concurrency else [])]
        with running(command, f"http://{HOST}:{port}/config.js", Path(tmp) / "serve.log"):
            pid = server_pid(port)
            for url in (chain, endpoint):
                run_wrk(wrk, script, url, "warm-up", args.connections, WARMUP_S, args.timeout)
            rows = [
                measured(pid, lambda: run_wrk(wrk, script, chain, "whole chain, wrk: POST /api/sentiment",
                                              args.connections, args.duration, args.timeout)),
                measured(pid, lambda: asyncio.run(python_load(chain, bodies, args.connections, args.duration,
                                                              args.timeout))),
                measured(pid, lambda: run_wrk(wrk, script, endpoint, "endpoint alone, wrk: POST /invocations",
                                              args.connections, args.duration, args.timeout)),
            ]
    report(rows)


if __name__ == "__main__":
    main()
