"""The local stand-in for the AWS side of ``sentiment-app serve``: the endpoint server process and the
environment the Lambda function reads. Free of CLI code so tests and other commands can reuse it.
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from sentiment_app.errors import SentimentAppError
from sentiment_app.gateway.function.lambda_function import ENDPOINT_URL_ENV
from sentiment_app.serving.lifecycle import port_is_free, server_command
from sentiment_app.serving.options import ServerOptions
from sentiment_app.serving.variants import EndpointConfig

READY_TIMEOUT_S = 120.0  # model load on a slow laptop; SageMaker itself allows 4 minutes
STOP_GRACE_S = 10.0
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
FEEDBACK_ENV = "FEEDBACK_LOCATION"  # where the Lambda function stores feedback
ENDPOINT_NAME = "local-sentiment"  # what serve names its endpoint unless told
FEEDBACK_PREFIX = "feedback"  # feedback/<endpoint>/yyyy/mm/dd/hh/<inference id>.json in the store


def check_port_free(host: str, port: int, option: str) -> None:
    """Fail before starting anything, naming the option that picks another port."""
    if not port_is_free(host, port):
        raise SentimentAppError(f"Port {port} on {host} is not free; choose another with {option}.")


def local_url(host: str, port: int) -> str:
    """A URL for reaching a server bound to ``host`` from this machine (wildcards mean loopback)."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def start_endpoint(model: Path | EndpointConfig, options: ServerOptions, extra: Sequence[str] = ()) -> subprocess.Popen[bytes]:
    """A model folder or resolved variants, served with ``options`` and any ``extra`` arguments."""
    return subprocess.Popen(server_command(model, options, extra))


def wait_until_ready(url: str, process: subprocess.Popen[bytes], timeout_s: float = READY_TIMEOUT_S) -> None:
    """Poll ``url`` until it answers 200; give up early if the process dies."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SentimentAppError(
                f"The endpoint server exited (status {process.returncode}) before it was ready; see its log above."
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:  # not listening yet, or 503 while the model loads
            pass
        time.sleep(0.2)
    raise SentimentAppError(f"The endpoint server did not answer {url} within {timeout_s:g} s.")


def stop_process(process: subprocess.Popen[bytes], grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM for a graceful shutdown, SIGKILL if it lingers, and reap it: no orphan, no zombie."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def feedback_location(store: str, endpoint_name: str) -> str:
    """Where feedback on ``endpoint_name``'s answers goes: ``feedback/<endpoint>`` in the store."""
    return f"{store.rstrip('/')}/{FEEDBACK_PREFIX}/{endpoint_name}"


def set_lambda_environment(endpoint_name: str, endpoint_url: str, cors_origins: Sequence[str] = (),
                           feedback: str = "") -> None:
    """What the Lambda function reads, plus the credentials and region boto3 needs to sign a request
    (a local endpoint never checks them). ``cors_origins``, if given, become its CORS allow-list;
    otherwise ``CORS_ALLOW_ORIGIN`` stays as the environment has it (default ``*``). ``feedback``, if
    given, is where it stores feedback (see :func:`feedback_location`)."""
    os.environ["ENDPOINT_NAME"] = endpoint_name
    os.environ[ENDPOINT_URL_ENV] = endpoint_url
    if feedback:
        os.environ[FEEDBACK_ENV] = feedback
    if cors_origins:
        os.environ["CORS_ALLOW_ORIGIN"] = ",".join(cors_origins)
    if not os.environ.get("AWS_ACCESS_KEY_ID"):
        os.environ.update(DUMMY_CREDENTIALS)
    if not (os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")):
        os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
