"""The model container's process: uvicorn over the endpoint app, one or several workers.

Started by :mod:`sentiment_app.cli.endpoint_server` (the process's command line) with its
:class:`~sentiment_app.serving.options.ServerOptions`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from types import FrameType

import uvicorn
from prometheus_client.multiprocess import mark_process_dead
from starlette.applications import Starlette
from uvicorn.supervisors import Multiprocess

from sentiment_app.http_common.observability import MULTIPROCESS_DIR_ENV, log_requests_as_json_lines
from sentiment_app.serving import IDLE_SHUTDOWN_LINE
from sentiment_app.serving.options import DEFAULTS, ServerOptions
from sentiment_app.serving.capture import CaptureSettings
from sentiment_app.serving.variants import EndpointConfig

log = logging.getLogger(__name__)

APP_ARGS_ENV = "SENTIMENT_APP_SERVER_APP_ARGS"
"""How worker processes get the app's arguments: uvicorn hands a worker only an import string."""
STARTUP_FAILURE = 3  # uvicorn's exit status when the app cannot start
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class IdleWatch:
    """Stops the server once no invocation came for ``idle_s`` seconds.

    Workers touch a file when ready and on every invocation: with several worker processes, a
    file's mtime is the simplest state they all share. The clock starts at the first touch, so a
    slow model load never counts as idle time.
    """

    def __init__(self, idle_s: float, folder: Path | None = None) -> None:
        self.idle_s = idle_s
        self.folder = folder or Path(tempfile.mkdtemp(prefix="sentiment-app-idle-"))
        self.path = self.folder / "activity"

    def touch(self) -> None:
        """Called by workers; the idle clock must never fail an invocation."""
        with contextlib.suppress(OSError):
            self.path.touch()

    def start(self, stop: Callable[[], None]) -> None:
        threading.Thread(target=self._watch, args=(stop,), name="idle-watch", daemon=True).start()

    def _watch(self, stop: Callable[[], None]) -> None:
        while True:
            try:
                idle = time.time() - self.path.stat().st_mtime
            except FileNotFoundError:  # no worker ready yet
                idle = 0.0
            if idle >= self.idle_s:
                log.info(IDLE_SHUTDOWN_LINE)
                stop()
                return
            time.sleep(min(self.idle_s - idle, 0.5))

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def own_listening_socket(host: str, port: int) -> list[socket.socket]:
    """A socket bound with ``SO_REUSEPORT`` to the endpoint's port, made in the worker that listens on it."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return [sock]


class SocketPerWorker(list):
    """The sockets uvicorn's supervisor hands each worker it starts: unpickled in the spawned worker,
    they become a socket of that worker's own, bound with ``SO_REUSEPORT`` to the one port, so the
    kernel spreads new connections across the workers. With one socket shared by all, the worker
    that wakes first accepts every connection waiting: 16 clients that connect at once could all
    land on one worker while the others idle."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__()
        self.host, self.port = host, port

    def __reduce__(self) -> tuple[Callable[[str, int], list[socket.socket]], tuple[str, int]]:
        return own_listening_socket, (self.host, self.port)


class Supervisor(Multiprocess):
    """uvicorn's supervisor, which also drops a replaced worker's live gauges from the shared
    metrics folder: a worker killed mid-request would otherwise count in ``/metrics``'s in-flight
    gauge until the server exits. Its counters stay, since what it answered was answered."""

    def keep_subprocess_alive(self) -> None:
        with self._retiring_dead_workers():
            super().keep_subprocess_alive()

    def restart_all(self) -> None:
        with self._retiring_dead_workers():
            super().restart_all()

    @contextlib.contextmanager
    def _retiring_dead_workers(self) -> Iterator[None]:
        before = {process.pid for process in self.processes}
        yield
        for pid in before - {process.pid for process in self.processes}:
            mark_process_dead(pid)


def build_app() -> Starlette:
    """uvicorn factory: each worker builds its app from the arguments ``run_server`` left in the environment."""
    # Imported here, not at the top: a spawned worker re-imports this module before uvicorn starts
    # its health-check thread, and importing torch can take longer than that check's 5 s.
    import torch

    from sentiment_app.serving.app import create_app

    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    log_requests_as_json_lines()
    args = json.loads(os.environ[APP_ARGS_ENV])
    options = ServerOptions.from_json(args["options"])
    # Only the batcher's thread runs the model; its batches are small enough that more intra-op
    # threads mostly fight the event loop (and any other worker) for the cores.
    torch.set_num_threads(options.torch_threads)
    idle_folder = args["idle_folder"]
    on_activity = IdleWatch(options.idle_timeout_s, Path(idle_folder)).touch if idle_folder else None
    weights_file, capture = args["weights_file"], args["capture"]
    return create_app(EndpointConfig.from_dict(args["config"]), endpoint_name=options.name,
                      max_payload_bytes=options.max_payload_bytes, timeout_s=options.timeout_s,
                      on_activity=on_activity, max_batch_size=options.max_batch_size,
                      max_batch_wait_ms=options.max_batch_wait_ms, on_load_failure=_exit_on_load_failure,
                      weights_file=Path(weights_file) if weights_file else None,
                      capture=CaptureSettings(**capture) if capture else None)


def _exit_on_load_failure(exc: BaseException) -> None:
    """The model loads after the port opens (so ``/ping`` can say 503 meanwhile); a server whose model
    cannot load can serve nothing, so it ends at once with the startup-failure status, its log
    holding the cause, and whoever started it sees it exit."""
    logging.shutdown()
    os._exit(STARTUP_FAILURE)


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    """uvicorn re-raises the stop signal after its graceful shutdown; exit 0 and run ``finally`` blocks."""
    raise SystemExit(0)


def run_server(model: Path | EndpointConfig, options: ServerOptions = DEFAULTS, weights_file: Path | None = None,
               capture: CaptureSettings | None = None) -> None:
    """Serve until SIGTERM/SIGINT (or the idle timeout). Call from the main thread. ``model`` is a
    model folder or an endpoint config with its models resolved to folders."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    host, port, workers = options.host, options.port, options.workers
    idle = IdleWatch(options.idle_timeout_s) if options.idle_timeout_s else None
    config = model if isinstance(model, EndpointConfig) else EndpointConfig.single(model)
    os.environ[APP_ARGS_ENV] = json.dumps({
        "config": config.resolved(lambda folder: Path(str(folder)).resolve()).to_dict(),
        "weights_file": str(weights_file.resolve()) if weights_file else None,
        "capture": asdict(capture) if capture else None,
        "options": options.to_json(),
        "idle_folder": str(idle.folder) if idle else None,
    })
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit_cleanly)
    config = uvicorn.Config("sentiment_app.serving.server:build_app", factory=True, host=host, port=port, workers=workers,
                            access_log=options.access_log)
    # Several workers share their metrics through files (set before any worker imports prometheus_client).
    metrics_dir = None
    if workers > 1 and MULTIPROCESS_DIR_ENV not in os.environ:
        metrics_dir = os.environ[MULTIPROCESS_DIR_ENV] = tempfile.mkdtemp(prefix="sentiment-app-metrics-")
    try:
        if workers > 1:
            try:  # a port another server holds fails here, once, not in every worker
                own_listening_socket(host, port)[0].close()
            except OSError as exc:
                log.error("Cannot listen on %s:%d: %s", host, port, exc)
                raise SystemExit(STARTUP_FAILURE) from None
            supervisor = Supervisor(config, sockets=SocketPerWorker(host, port))
            if idle:
                idle.start(supervisor.should_exit.set)
            supervisor.run()
        else:
            server = uvicorn.Server(config)
            if idle:
                idle.start(lambda: setattr(server, "should_exit", True))
            server.run()
            if not server.started:
                raise SystemExit(STARTUP_FAILURE)
    finally:
        if idle:
            idle.close()
        if metrics_dir:
            del os.environ[MULTIPROCESS_DIR_ENV]
            shutil.rmtree(metrics_dir, ignore_errors=True)
