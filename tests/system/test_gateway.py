"""``sentiment-app serve`` as a user runs it: a real process tree on loopback ports, stopped by signal.
(The proxy events it translates to and from: ``tests/unit/test_events.py``.)"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import httpx
import psutil
import pytest

from sentiment_app.artifacts import versions
from sentiment_app.artifacts.locate import bundled_model_dir
from sentiment_app.errors import SentimentAppError
from sentiment_app.gateway.api.local_stack import check_port_free
from sentiment_app.settings import load_settings
from tests.serving_support import ServedApp, served_app
from tests.support import CLI, NEGATIVE, POSITIVE, free_port


def test_page_and_config_are_served(app: ServedApp) -> None:
    page = httpx.get(f"{app.url}/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for element in ('id="review"', 'id="submit"', 'id="result"', 'id="error"', 'src="config.js"'):
        assert element in page.text
    assert httpx.get(f"{app.url}/app.js").status_code == 200
    assert httpx.get(f"{app.url}/style.css").status_code == 200
    config = httpx.get(f"{app.url}/config.js")
    assert config.text == 'window.SENTIMENT_API_URL = "/api/sentiment";\n'


def test_text_review_is_classified(app: ServedApp) -> None:
    reply = httpx.post(f"{app.url}/api/sentiment", content=POSITIVE, headers={"Content-Type": "text/plain"})
    assert reply.status_code == 200
    assert reply.headers["access-control-allow-origin"] == "*"
    assert reply.json()["label"] == "positive"


def test_json_review_is_classified(app: ServedApp) -> None:
    reply = httpx.post(f"{app.url}/api/sentiment", json={"review": NEGATIVE})
    assert reply.status_code == 200
    body = reply.json()
    assert body["label"] == "negative" and 0 <= body["probability"] < 0.5 and body["model_version"]


def test_bad_requests_get_json_errors(app: ServedApp) -> None:
    empty = httpx.post(f"{app.url}/api/sentiment", content=b"")
    assert empty.status_code == 400 and "empty" in empty.json()["message"]
    binary = httpx.post(f"{app.url}/api/sentiment", content=b"\xff\xfe\xfd")  # reaches the function as base64
    assert binary.status_code == 400 and "UTF-8" in binary.json()["message"]
    for body in ({"review": "bad \ud800 film"}, {"instances": [POSITIVE, "\udfff"]}):  # JSON escapes, not text
        surrogate = httpx.post(f"{app.url}/api/sentiment", content=json.dumps(body),
                               headers={"Content-Type": "application/json"})
        assert surrogate.status_code == 400 and "lone surrogate" in surrogate.json()["message"]
    preflight = httpx.options(f"{app.url}/api/sentiment")
    assert preflight.status_code == 204 and "POST" in preflight.headers["access-control-allow-methods"]


@pytest.mark.parametrize("method, path", [("GET", "/nowhere"), ("GET", "/api/sentiment"), ("POST", "/")])
def test_unknown_route_is_403(app: ServedApp, method: str, path: str) -> None:
    reply = httpx.request(method, f"{app.url}{path}")
    assert reply.status_code == 403
    assert reply.json() == {"message": "Missing Authentication Token"}


def test_busy_port_fails_clearly(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = subprocess.run([CLI, "serve", "--home", str(tmp_path), "--port", str(port),
                              "--endpoint-port", str(free_port())], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert f"Port {port} on 127.0.0.1 is not free" in run.stderr and "--port" in run.stderr


def test_sigterm_stops_both_processes_and_frees_ports(tmp_path: Path) -> None:
    with served_app(tmp_path) as served:
        children = psutil.Process(served.process.pid).children(recursive=True)
        assert children, "the endpoint server should run as a child process"
        assert httpx.post(f"{served.url}/api/sentiment", content=POSITIVE).status_code == 200
        served.process.send_signal(signal.SIGTERM)
        assert served.process.wait(30) == 0
        _, alive = psutil.wait_procs(children, timeout=10)
        assert not alive, f"orphaned: {alive}"
        for port in (served.port, served.endpoint_port):
            try:
                check_port_free("127.0.0.1", port, "--port")
            except SentimentAppError as exc:
                pytest.fail(str(exc))


def test_serve_without_model_serves_the_newest_approved_version_only(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = load_settings(home=home, environ={})
    approved, pending = (shutil.copytree(bundled_model_dir("lstm-seed"), home / "models" / name) for name in "ab")
    versions.set_status(settings, versions.register(settings, approved)["version"], versions.APPROVED)
    versions.register(settings, pending)  # newer, but nobody approved it
    with served_app(home, log=tmp_path / "serve.log", model=None) as served:
        assert httpx.post(f"{served.url}/api/sentiment", content=POSITIVE).status_code == 200
    assert f"with model {approved} on" in (tmp_path / "serve.log").read_text()
