"""The serving chain under test: the served app, the endpoint alone, the CLI around them, their metrics."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from click.testing import CliRunner, Result
from prometheus_client.parser import text_string_to_metric_families

from sentiment_app.artifacts.locate import bundled_model_dir
from sentiment_app.cli import main
from sentiment_app.gateway.api.local_stack import local_url, start_endpoint, stop_process, wait_until_ready
from sentiment_app.serving.options import ServerOptions
from tests.support import CLI, Cli, cli_in_home, free_port


def batch_cli(home: Path, source: Path, *options: str) -> tuple[int, str, str]:
    done = CliRunner().invoke(main, ["batch-transform", str(source), "--home", str(home), *options])
    return done.exit_code, done.stdout, done.stderr


def create_key(home: Path, name: str, *options: str) -> str:
    """``sentiment-app apikey create``; the key it prints."""
    done = cli_in_home(home, "apikey", "create", name, *options)
    assert done.exit_code == 0, done.output
    key = done.stdout.strip()
    assert key.startswith("sa_") and len(key) > 40 and "\n" not in key
    return key


def key_usage(home: Path) -> dict[str, dict]:
    """``sentiment-app apikey list --json``, by key name."""
    done = cli_in_home(home, "apikey", "list", "--json")
    assert done.exit_code == 0, done.output
    return {row["name"]: row for row in json.loads(done.stdout)}


def endpoint_cli(home: Path) -> Cli:
    """``sentiment-app endpoint ARGS --home HOME``, asserting it succeeds (or, with ``ok=False``, fails)."""
    def run(*args: str, ok: bool = True) -> Result:
        result = CliRunner().invoke(main, ["endpoint", *args, "--home", str(home)])
        assert (result.exit_code == 0) == ok, result.output
        return result

    return run


def build_zip_with_cli(output: Path) -> Path:
    """The Lambda package, built by ``sentiment-app aws lambda-package``."""
    from sentiment_app.cli.aws import lambda_package

    result = CliRunner().invoke(lambda_package, ["--output", str(output)])
    assert result.exit_code == 0, result.output
    assert str(output) in result.output and "lambda_function.lambda_handler" in result.output
    return output


def parse_metrics(text: str) -> dict[tuple[str, frozenset], float]:
    """A ``/metrics`` page parsed by Prometheus's own parser: (sample name, labels) → value."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def in_flight(base: str) -> float:
    """The server's ``http_requests_in_flight`` gauge, as one new scrape sees it (counting itself)."""
    return parse_metrics(httpx.get(f"{base}/metrics").text)[("http_requests_in_flight", frozenset())]


@dataclass
class ServedApp:
    url: str
    port: int
    endpoint_port: int
    process: subprocess.Popen[bytes]


@contextmanager
def served_app(home: Path, *options: str, log: Path | None = None, model: Path | None = bundled_model_dir()
               ) -> Iterator[ServedApp]:
    """``sentiment-app serve`` with ``model`` (None: serve's own default) on free ports, ready to answer;
    extra ``options`` are passed on, and ``log`` (if given) receives everything the process tree prints."""
    port, endpoint_port = free_port(), free_port()
    command = [CLI, "serve", "--home", str(home), *(["--model", str(model)] if model else []),
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
    process = start_endpoint(bundled_model_dir(), ServerOptions(port=port, name=name))
    try:
        url = local_url("127.0.0.1", port)
        wait_until_ready(f"{url}/ping", process)
        yield url
    finally:
        stop_process(process)
