"""Helpers shared by the serving, gateway, Lambda and browser tests."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from sentiment_app.gateway.local_stack import local_url, start_endpoint, stop_process, wait_until_ready
from sentiment_app.artifacts.locate import bundled_model_dir

CLI = str(Path(sys.executable).with_name("sentiment-app"))
POSITIVE = "A wonderful, moving film with brilliant acting; I loved every minute."
NEGATIVE = "Dreadful, boring and stupid. The worst movie I have ever seen, a total waste of time."


def parse_metrics(text: str) -> dict[tuple[str, frozenset], float]:
    """A ``/metrics`` page parsed by Prometheus's own parser: (sample name, labels) → value."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def in_flight(base: str) -> float:
    """The server's ``http_requests_in_flight`` gauge, as one new scrape sees it (counting itself)."""
    return parse_metrics(httpx.get(f"{base}/metrics").text)[("http_requests_in_flight", frozenset())]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ServedApp:
    url: str
    port: int
    endpoint_port: int
    process: subprocess.Popen[bytes]


@contextmanager
def served_app(home: Path, *options: str, log: Path | None = None) -> Iterator[ServedApp]:
    """``sentiment-app serve`` with the bundled model on free ports, ready to answer; extra ``options``
    are passed on, and ``log`` (if given) receives everything the process tree prints."""
    port, endpoint_port = free_port(), free_port()
    command = [CLI, "serve", "--home", str(home), "--model", str(bundled_model_dir()),
               "--port", str(port), "--endpoint-port", str(endpoint_port), *options]
    output = open(log, "wb") if log else None  # noqa: SIM115 (closed below, after the process)
    process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT if output else None)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_ready(f"{url}/", process)
        yield ServedApp(url, port, endpoint_port, process)
    finally:
        stop_process(process)
        if output:
            output.close()


@contextmanager
def running_endpoint(name: str) -> Iterator[str]:
    """The endpoint server with the bundled model on a free port; yields its URL once ``/ping`` answers."""
    port = free_port()
    process = start_endpoint(bundled_model_dir(), "127.0.0.1", port, name)
    try:
        url = local_url("127.0.0.1", port)
        wait_until_ready(f"{url}/ping", process)
        yield url
    finally:
        stop_process(process)


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's standalone AWS-API server on a free loopback port (the AWS cloud cannot run here)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
