"""Local endpoints: model servers running as detached background processes.

Each endpoint is one JSON record in ``settings.endpoints`` (plus ``<name>.log``, and
``weights/<name>.json``, the variant weights its workers follow), so endpoints outlive the CLI
process that created them. Statuses follow SageMaker's ``EndpointStatus``; a
record is re-checked against the live process table whenever it is read, because a server can
die (or idle out) without anyone updating its record.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import psutil

from sentiment_app.errors import SentimentAppError
from sentiment_app.fileio import atomic_write_bytes
from sentiment_app.artifacts.locate import resolve_model_dir
from sentiment_app.serving import IDLE_SHUTDOWN_LINE
from sentiment_app.serving.capture import PREFIX as CAPTURE_PREFIX
from sentiment_app.serving.options import ServerOptions
from sentiment_app.serving.variants import EndpointConfig, check_name, write_weights
from sentiment_app.settings import Settings

CREATING, IN_SERVICE, OUT_OF_SERVICE, FAILED = "Creating", "InService", "OutOfService", "Failed"
LIVE = (CREATING, IN_SERVICE)
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
    variants: dict | None = None  # EndpointConfig.to_dict(), models resolved; None: model_dir alone
    capture_percent: float = 0.0
    capture_store: str | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def config(self) -> EndpointConfig:
        return EndpointConfig.from_dict(self.variants) if self.variants else EndpointConfig.single(self.model_dir)

    @property
    def capture_location(self) -> str | None:
        """Where its Data Capture files go, when capture is on."""
        if not self.capture_percent or not self.capture_store:
            return None
        return f"{self.capture_store.rstrip('/')}/{CAPTURE_PREFIX}/{self.name}/"

    @property
    def uptime_s(self) -> float | None:
        return time.time() - self.pid_started if self.status in LIVE else None

    def view(self) -> dict[str, object]:
        """The record plus what is derived from it, for ``--json`` output."""
        return {**asdict(self), "url": self.url, "uptime_s": self.uptime_s}


def validate_name(name: str) -> str:
    """SageMaker's endpoint-name rule; it also keeps names safe as file names."""
    return check_name(name, "endpoint")


def record_path(settings: Settings, name: str) -> Path:
    return settings.endpoints / f"{validate_name(name)}.json"


def log_path(settings: Settings, name: str) -> Path:
    return settings.endpoints / f"{validate_name(name)}.log"


def weights_path(settings: Settings, name: str) -> Path:
    """The weights the endpoint's workers follow (re-read whenever the file changes)."""
    return settings.endpoints / "weights" / f"{validate_name(name)}.json"


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


def server_command(model: str | Path | EndpointConfig, options: ServerOptions, extra: Sequence[str] = ()) -> list[str]:
    """The endpoint server as its own process, as SageMaker runs the model container apart: a model
    folder, or variants with their models resolved to folders, its ``options``, and ``extra``
    arguments (weights file, Data Capture)."""
    config = model if isinstance(model, EndpointConfig) else EndpointConfig.single(model)
    return [sys.executable, "-m", "sentiment_app.cli.endpoint_server", *config.server_arguments(),
            *options.arguments(), *extra]


def capture_options(percent: float, store: str) -> list[str]:
    """The server's options for Data Capture (none when ``percent`` is 0)."""
    return ["--capture-percent", f"{percent:g}", "--store", store] if percent else []


def _start_server(settings: Settings, endpoint: Endpoint) -> subprocess.Popen[bytes]:
    """Detached (own session), so it outlives the CLI and Ctrl-C in the terminal does not reach it."""
    extra = ["--weights-file", str(weights_path(settings, endpoint.name))]
    extra += capture_options(endpoint.capture_percent, endpoint.capture_store or settings.store)
    options = ServerOptions(host=endpoint.host, port=endpoint.port, name=endpoint.name,
                            idle_timeout_s=endpoint.idle_timeout_s or None)
    command = server_command(endpoint.config, options, extra)
    log_path(settings, endpoint.name).parent.mkdir(parents=True, exist_ok=True)
    with open(log_path(settings, endpoint.name), "wb") as log:
        return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _fail(settings: Settings, endpoint: Endpoint, why: str) -> SentimentAppError:
    endpoint.status = FAILED
    endpoint.failure_reason = f"{why} Last log lines:\n{log_tail(settings, endpoint.name)}"
    save(settings, endpoint)
    return SentimentAppError(f"Endpoint {endpoint.name} failed. {endpoint.failure_reason}")


def resolve_config(settings: Settings, config: EndpointConfig) -> EndpointConfig:
    """Every variant's model source as the folder to load (see ``resolve_model_dir``), which must exist."""
    def folder(source: str | None) -> Path:
        model_dir = resolve_model_dir(settings, source)
        if not model_dir.is_dir():
            raise SentimentAppError(f"Model directory {model_dir} does not exist.")
        return model_dir

    return config.resolved(folder)


def create_endpoint(
    settings: Settings,
    name: str,
    model: str | Path | EndpointConfig | None = None,
    port: int | None = None,
    idle_timeout_s: float | None = None,
    startup_timeout_s: float = STARTUP_TIMEOUT_S,
    capture_percent: float = 0.0,
) -> Endpoint:
    """Start a server for a model source or variants and wait until it answers ``/ping``
    (InService) or gives up (Failed). ``capture_percent`` above 0 turns Data Capture on, into the store."""
    if record_path(settings, name).exists() and get_endpoint(settings, name).status in LIVE:
        raise SentimentAppError(f"Endpoint {name} already exists and is running; delete it first.")
    config = resolve_config(settings, model if isinstance(model, EndpointConfig) else EndpointConfig.single(model))
    if port is not None and not port_is_free(HOST, port):
        raise SentimentAppError(f"Port {port} is already in use.")
    endpoint = Endpoint(
        name=name, model_dir=str(config.production[0].model), host=HOST, port=port or free_port(HOST), pid=0,
        pid_started=0.0, status=CREATING, created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        idle_timeout_s=idle_timeout_s, variants=config.to_dict(), capture_percent=capture_percent,
        capture_store=settings.store if capture_percent else None,
    )
    write_weights(weights_path(settings, name), config.weights)
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
    weights_path(settings, name).unlink(missing_ok=True)
    deadline = time.monotonic() + port_timeout_s
    while not port_is_free(endpoint.host, endpoint.port):
        if time.monotonic() > deadline:
            raise SentimentAppError(f"Endpoint {name} was stopped, but port {endpoint.port} is still in use.")
        time.sleep(0.1)


def update_weights(settings: Settings, name: str, weights: Mapping[str, float]) -> Endpoint:
    """Change the traffic split of a running endpoint: its workers re-read the weights file on their
    next request, so no request is dropped or refused. Variants not named keep their weight."""
    endpoint = get_endpoint(settings, name)
    if endpoint.status not in LIVE:
        raise SentimentAppError(f"Endpoint {name} is {endpoint.status}; only a running endpoint's weights can change.")
    config = endpoint.config.with_weights(weights)
    write_weights(weights_path(settings, name), config.weights)
    endpoint.variants = config.to_dict()
    save(settings, endpoint)
    return endpoint


def read_log(settings: Settings, name: str) -> str:
    """The server's output; kept after ``delete``, like an endpoint's CloudWatch log group."""
    try:
        return log_path(settings, name).read_text(errors="replace")
    except FileNotFoundError:
        raise SentimentAppError(f"No log for an endpoint named {name!r}.") from None
