"""Helpers every part of the tests shares: the repository's paths, the reviews tests send, the CLI,
and running a server or waiting for a condition. The test layers: ``tests/unit`` (no data set, no
servers, no subprocesses) and ``tests/system`` (the real data, real servers, a real browser,
subprocesses); fixtures live in the ``conftest.py`` files. Helpers of one part live beside this
module, named for it: ``data_support`` (the IMDB data), ``serving_support`` (the served chain),
``lambda_support`` (events and execution environments), ``browser_support`` (chromium),
``bad_input`` (the catalogue and the fuzzers), ``aws_support`` (moto), ``sagemaker_containers``
(AWS's toolkits as the containers' oracles). Modules only the system layer needs (uvicorn, moto's
server, playwright) are imported where used.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from sentiment_app.cli import main

REPO = Path(__file__).resolve().parents[1]
INFRA_TEMPLATE = REPO / "infra" / "template.yaml"
CLI = str(Path(sys.executable).with_name("sentiment-app"))
POSITIVE = "A wonderful, moving film with brilliant acting; I loved every minute."
NEGATIVE = "Dreadful, boring and stupid. The worst movie I have ever seen, a total waste of time."
POSITIVE_WORDS = {"wonderful", "brilliant", "loved", "moving"}  # the words that make POSITIVE positive
NEGATIVE_WORDS = {"dreadful", "boring", "stupid", "worst", "waste"}
MIXED_REVIEWS = [POSITIVE, NEGATIVE, "Funny, charming and heartfelt: a perfect family film.",
                 "A boring mess with no plot. I hated it."]
NGRAM_REVIEWS = ["Not good. Not good at all!", "A fine, fine film.", "", "<br />Great fun, didn't expect it"]


def write_lines(path: Path, lines: list[bytes], end: bytes = b"\n") -> Path:
    path.write_bytes(b"".join(line + end for line in lines))
    return path


def read_json_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def cli_in_home(home: Path, *args: str) -> Result:
    """The real command line, in-process (starting the CLI costs seconds on a busy machine)."""
    return CliRunner().invoke(main, [*args, "--home", str(home)])


Cli = Callable[..., Result]


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running(app: Any) -> Iterator[str]:
    """A Starlette app under uvicorn in a background thread; yields its URL once startup is complete."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


Event = dict[str, Any]
