"""``sentiment-app endpoint``: real background servers, managed through the CLI in a temporary home.
(Errors refused before any server starts: ``tests/unit/test_lifecycle.py``.)"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import httpx
import pytest

from sentiment_app.artifacts.locate import bundled_model_dir
from sentiment_app.serving import lifecycle
from sentiment_app.settings import load_settings
from tests.serving_support import endpoint_cli
from tests.support import Cli, POSITIVE


@pytest.fixture()
def home(tmp_path: Path) -> Iterator[Path]:
    """A fresh home; whatever endpoint a test leaves behind is stopped."""
    yield tmp_path
    settings = load_settings(home=tmp_path)
    for endpoint in lifecycle.list_endpoints(settings):
        lifecycle.delete_endpoint(settings, endpoint.name)


@pytest.fixture()
def cli(home: Path) -> Cli:
    return endpoint_cli(home)


def listed(cli: Cli) -> dict[str, dict]:
    return {e["name"]: e for e in json.loads(cli("list", "--json").output)}


def wait_until(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_create_list_invoke_delete(cli: Cli, home: Path) -> None:
    created = cli("create", "demo-1", "--model", str(bundled_model_dir()))
    assert "InService" in created.output
    endpoint = listed(cli)["demo-1"]
    assert endpoint["status"] == "InService" and endpoint["uptime_s"] >= 0
    url = endpoint["url"]
    assert httpx.get(f"{url}/ping").status_code == 200

    runtime = boto3.client("sagemaker-runtime", endpoint_url=url, region_name="us-east-1",
                           aws_access_key_id="x", aws_secret_access_key="x")
    reply = runtime.invoke_endpoint(EndpointName="demo-1", Body=POSITIVE, ContentType="text/plain", Accept="text/plain")
    assert reply["Body"].read() == b"1.0"

    table = cli("list").output
    assert "demo-1" in table and "InService" in table and url in table
    assert json.loads(cli("describe", "demo-1", "--json").output)["pid"] == endpoint["pid"]
    assert "already exists" in cli("create", "demo-1", ok=False).output
    assert "Application startup complete" in cli("logs", "demo-1").output

    cli("delete", "demo-1")
    assert lifecycle.port_is_free("127.0.0.1", endpoint["port"])
    assert listed(cli) == {}
    assert "No endpoint named" in cli("describe", "demo-1", ok=False).output


def test_killed_server_shows_as_failed(cli: Cli) -> None:
    cli("create", "victim")
    endpoint = listed(cli)["victim"]
    os.kill(endpoint["pid"], signal.SIGKILL)
    wait_until(lambda: listed(cli)["victim"]["status"] == "Failed")
    assert "is gone" in listed(cli)["victim"]["failure_reason"]
    assert "Failure reason" in cli("describe", "victim").output
    cli("delete", "victim")


def test_idle_endpoint_shuts_itself_down(cli: Cli) -> None:
    cli("create", "sleepy", "--idle-timeout", "1")
    port = listed(cli)["sleepy"]["port"]
    wait_until(lambda: listed(cli)["sleepy"]["status"] == "OutOfService")
    assert "without an invocation" in listed(cli)["sleepy"]["failure_reason"]
    wait_until(lambda: lifecycle.port_is_free("127.0.0.1", port), timeout=5)


def test_failed_startup_is_recorded_with_the_log(cli: Cli, tmp_path: Path) -> None:
    broken = tmp_path / "broken-model"
    broken.mkdir()
    output = cli("create", "broken", "--model", str(broken), ok=False).output
    assert "failed" in output and "exited with status" in output
    assert listed(cli)["broken"]["status"] == "Failed"
