"""Local endpoints: model servers running as detached background processes.

Each endpoint is one JSON record in ``settings.endpoints`` (plus ``<name>.log``), so endpoints
outlive the CLI process that created them. Statuses follow SageMaker's ``EndpointStatus``; a
record is re-checked against the live process table whenever it is read, because a server can
die (or idle out) without anyone updating its record.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import psutil

from sentiment_app.errors import SentimentAppError
from sentiment_app.fileio import atomic_write_bytes
from sentiment_app.artifacts.locate import resolve_model_dir
from sentiment_app.serving import IDLE_SHUTDOWN_LINE
from sentiment_app.settings import Settings

CREATING, IN_SERVICE, OUT_OF_SERVICE, FAILED = "Creating", "InService", "OutOfService", "Failed"
LIVE = (CREATING, IN_SERVICE)
NAME_PATTERN = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*")
MAX_NAME = 63
HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 60.0
STOP_GRACE_S = 30.0  # SageMaker sends SIGKILL 30 s after SIGTERM
LOG_TAIL_LINES = 8


@dataclass
class Endpoint:
    name: str
    model_dir: str
    host: str
    port: int
    pid: int
    pid_started: float  # the process's start time: tells our server from a later process reusing its pid
    status: str
    created_at: str
    idle_timeout_s: float | None = None
    failure_reason: str | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def uptime_s(self) -> float | None:
        return time.time() - self.pid_started if self.status in LIVE else None

    def view(self) -> dict[str, object]:
        """The record plus what is derived from it, for ``--json`` output."""
        return {**asdict(self), "url": self.url, "uptime_s": self.uptime_s}


def validate_name(name: str) -> str:
    """SageMaker's endpoint-name rule; it also keeps names safe as file names."""
    if len(name) > MAX_NAME or not NAME_PATTERN.fullmatch(name):
        raise SentimentAppError(
            f"Invalid endpoint name {name!r}: use at most {MAX_NAME} letters, digits and hyphens, "
            "starting and ending with a letter or digit."
        )
    return name


def record_path(settings: Settings, name: str) -> Path:
    return settings.endpoints / f"{validate_name(name)}.json"


def log_path(settings: Settings, name: str) -> Path:
    return settings.endpoints / f"{validate_name(name)}.log"


def save(settings: Settings, endpoint: Endpoint) -> None:
    atomic_write_bytes(record_path(settings, endpoint.name), json.dumps(asdict(endpoint), indent=2).encode())


def _read(path: Path) -> Endpoint:
    try:
        return Endpoint(**json.loads(path.read_text()))
    except (ValueError, TypeError) as exc:
        raise SentimentAppError(f"Corrupt endpoint record {path}: {exc}") from exc


def server_process(endpoint: Endpoint) -> psutil.Process | None:
    """The endpoint's server if it still runs; a zombie or a recycled pid does not count."""
    try:
        process = psutil.Process(endpoint.pid)
        if abs(process.create_time() - endpoint.pid_started) > 1.0 or process.status() == psutil.STATUS_ZOMBIE:
            return None
        return process
    except psutil.Error:
        return None


def log_tail(settings: Settings, name: str, lines: int = LOG_TAIL_LINES) -> str:
    try:
        return "\n".join(log_path(settings, name).read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return ""


def refresh(settings: Settings, endpoint: Endpoint) -> Endpoint:
    """Bring a live-looking record in line with reality, and persist the change."""
    if endpoint.status not in LIVE or server_process(endpoint) is not None:
        return endpoint
    tail = log_tail(settings, endpoint.name)
    if IDLE_SHUTDOWN_LINE in tail:
        endpoint.status = OUT_OF_SERVICE
        endpoint.failure_reason = f"Shut down after {endpoint.idle_timeout_s:g} s without an invocation."
    else:
        endpoint.status = FAILED
        endpoint.failure_reason = f"The server process {endpoint.pid} is gone. Last log lines:\n{tail}"
    save(settings, endpoint)
    return endpoint


def get_endpoint(settings: Settings, name: str) -> Endpoint:
    path = record_path(settings, name)
    if not path.exists():
        raise SentimentAppError(f"No endpoint named {name!r}; see `sentiment-app endpoint list`.")
    return refresh(settings, _read(path))


def list_endpoints(settings: Settings) -> list[Endpoint]:
    return [refresh(settings, _read(path)) for path in sorted(settings.endpoints.glob("*.json"))]


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could bind ``port`` now (with SO_REUSEADDR, as uvicorn binds)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def pings(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/ping", timeout=2) as reply:
            return reply.status == 200
    except (urllib.error.URLError, OSError):
        return False


def server_command(model_dir: str | Path, host: str, port: int, name: str) -> list[str]:
    """The endpoint server as its own process, as SageMaker runs the model container apart."""
    return [sys.executable, "-m", "sentiment_app.cli.endpoint_server", "--model", str(model_dir),
            "--host", host, "--port", str(port), "--name", name]


def _start_server(settings: Settings, endpoint: Endpoint) -> subprocess.Popen[bytes]:
    """Detached (own session), so it outlives the CLI and Ctrl-C in the terminal does not reach it."""
    command = server_command(endpoint.model_dir, endpoint.host, endpoint.port, endpoint.name)
    if endpoint.idle_timeout_s:
        command += ["--idle-timeout", str(endpoint.idle_timeout_s)]
    log_path(settings, endpoint.name).parent.mkdir(parents=True, exist_ok=True)
    with open(log_path(settings, endpoint.name), "wb") as log:
        return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _fail(settings: Settings, endpoint: Endpoint, why: str) -> SentimentAppError:
    endpoint.status = FAILED
    endpoint.failure_reason = f"{why} Last log lines:\n{log_tail(settings, endpoint.name)}"
    save(settings, endpoint)
    return SentimentAppError(f"Endpoint {endpoint.name} failed. {endpoint.failure_reason}")


def create_endpoint(
    settings: Settings,
    name: str,
    model: str | Path | None = None,
    port: int | None = None,
    idle_timeout_s: float | None = None,
    startup_timeout_s: float = STARTUP_TIMEOUT_S,
) -> Endpoint:
    """Start a server and wait until it answers ``/ping`` (InService) or gives up (Failed)."""
    if record_path(settings, name).exists() and get_endpoint(settings, name).status in LIVE:
        raise SentimentAppError(f"Endpoint {name} already exists and is running; delete it first.")
    model_dir = resolve_model_dir(settings, model)
    if not model_dir.is_dir():
        raise SentimentAppError(f"Model directory {model_dir} does not exist.")
    if port is not None and not port_is_free(HOST, port):
        raise SentimentAppError(f"Port {port} is already in use.")
    endpoint = Endpoint(
        name=name, model_dir=str(model_dir), host=HOST, port=port or free_port(HOST), pid=0, pid_started=0.0,
        status=CREATING, created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        idle_timeout_s=idle_timeout_s,
    )
    process = _start_server(settings, endpoint)
    endpoint.pid = process.pid
    try:
        endpoint.pid_started = psutil.Process(process.pid).create_time()
    except psutil.Error:
        pass  # already gone: the loop below reports why
    save(settings, endpoint)
    deadline = time.monotonic() + startup_timeout_s
    while not pings(endpoint.url):
        if process.poll() is not None:
            raise _fail(settings, endpoint, f"The server exited with status {process.returncode}.")
        if time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise _fail(settings, endpoint, f"The server did not answer /ping within {startup_timeout_s:g} s.")
        time.sleep(0.2)
    endpoint.status = IN_SERVICE
    save(settings, endpoint)
    return endpoint


def _stop(process: psutil.Process) -> None:
    """SIGTERM the server's process group (workers included), SIGKILL it if it outstays the grace."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(STOP_GRACE_S)
    except psutil.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


def delete_endpoint(settings: Settings, name: str, port_timeout_s: float = 5.0) -> None:
    """Stop the server, forget the endpoint and make sure its port is free again."""
    endpoint = get_endpoint(settings, name)
    process = server_process(endpoint)
    if process is not None:
        _stop(process)
    record_path(settings, name).unlink()
    deadline = time.monotonic() + port_timeout_s
    while not port_is_free(endpoint.host, endpoint.port):
        if time.monotonic() > deadline:
            raise SentimentAppError(f"Endpoint {name} was stopped, but port {endpoint.port} is still in use.")
        time.sleep(0.1)


def read_log(settings: Settings, name: str) -> str:
    """The server's output; kept after ``delete``, like an endpoint's CloudWatch log group."""
    try:
        return log_path(settings, name).read_text(errors="replace")
    except FileNotFoundError:
        raise SentimentAppError(f"No log for an endpoint named {name!r}.") from None
