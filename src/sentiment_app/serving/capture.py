"""Data Capture: a sample of the endpoint's requests and answers, as SageMaker's Data Capture writes them.

Each captured invocation is one JSON line (``captureData.endpointInput``/``endpointOutput``,
``eventMetadata``, ``eventVersion``) in the artifact store under
``datacapture/<endpoint>/<variant>/yyyy/mm/dd/hh/<mm-ss-mmm>-<uuid>.jsonl``: the request body as
received (never a header, so never an API key) and the answer sent. Capture must never fail or
slow a request, so a request only puts a tuple on a bounded queue (a full queue drops the record
and counts it) and one writer thread per worker process encodes and writes. A file is written
under a hidden name and published whole (renamed, or uploaded to an ``s3://`` store) once it
reaches ``rotate_bytes``, is ``rotate_s`` old, its hour is over, or the server stops; the uuid in
its name keeps the files of concurrent worker processes apart.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import queue
import random
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from prometheus_client import CollectorRegistry, Counter

from sentiment_app.http_common.observability import new_request_id
from sentiment_app.inference.handler import CSV, JSON, media_type
from sentiment_app.store import open_store
from sentiment_app.store.local import LocalStore

log = logging.getLogger(__name__)

PREFIX = "datacapture"
ROTATE_BYTES = 16 * 2**20
ROTATE_S = 60.0
QUEUE_SIZE = 10_000
INFERENCE_ID_HEADER = "x-amzn-sagemaker-inference-id"  # boto3's invoke_endpoint(InferenceId=...)
ENCODINGS = {CSV: "CSV", JSON: "JSON"}  # any other content type is captured as BASE64
_STOP = object()


@dataclass(frozen=True)
class CaptureSettings:
    """What share of the invocations to capture (0-100 %), into which store, and when files rotate."""

    percent: float
    store: str
    rotate_bytes: int = ROTATE_BYTES
    rotate_s: float = ROTATE_S
    queue_size: int = QUEUE_SIZE


@dataclass(frozen=True)
class Event:
    """One invocation as the request left it on the queue; encoded by the writer thread."""

    variant: str
    body: bytes
    content_type: str | None
    answer: str | bytes
    answer_type: str
    inference_id: str
    time: float


def encoded(data: str | bytes, content_type: str | None) -> tuple[str, str]:
    """``(data, encoding)`` as SageMaker captures it: CSV and JSON bodies as text, anything else
    (or a body that is not UTF-8) in base64."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    encoding = ENCODINGS.get(media_type(content_type))
    if encoding is not None:
        try:
            return raw.decode("utf-8"), encoding
        except UnicodeDecodeError:
            pass
    return base64.b64encode(raw).decode("ascii"), "BASE64"


def capture_record(event: Event) -> dict[str, object]:
    input_data, input_encoding = encoded(event.body, event.content_type)
    output_data, output_encoding = encoded(event.answer, event.answer_type)
    return {
        "captureData": {
            "endpointInput": {"observedContentType": event.content_type or "", "mode": "INPUT",
                              "data": input_data, "encoding": input_encoding},
            "endpointOutput": {"observedContentType": event.answer_type, "mode": "OUTPUT",
                               "data": output_data, "encoding": output_encoding},
        },
        "eventMetadata": {"eventId": new_request_id(), "inferenceId": event.inference_id,
                          "inferenceTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(event.time))},
        "eventVersion": "0",
    }


class CaptureFile:
    """One file being written under a hidden name in ``folder``, to be published whole as ``key``."""

    def __init__(self, key: str, folder: Path, hour: str, opened: float) -> None:
        self.key, self.hour, self.opened, self.size = key, hour, opened, 0
        self.name = key.rsplit("/", 1)[1]
        self.path = folder / f".{self.name}.tmp"
        folder.mkdir(parents=True, exist_ok=True)
        self.file: IO[bytes] = open(self.path, "wb")

    def write(self, line: bytes) -> None:
        self.file.write(line)
        self.size += len(line)

    def close(self) -> None:
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()


class DataCapture:
    """The queue, the writer thread and the open file of each variant, for one worker process.

    ``data_capture_records_total`` and ``data_capture_dropped_total`` (by ``variant``) go to
    ``registry``. Create it, ``start()`` it with the server, ``close()`` it at shutdown: that
    writes what is queued and publishes every file.
    """

    def __init__(self, settings: CaptureSettings, endpoint: str, registry: CollectorRegistry) -> None:
        self.settings = settings
        self.endpoint = endpoint
        self.store = open_store(settings.store)
        # A local store is written in place (hidden, then renamed); an S3 one from a local spool.
        self.local = isinstance(self.store, LocalStore)
        self.folder = self.store.root if isinstance(self.store, LocalStore) else Path(tempfile.mkdtemp(prefix="capture-"))
        self.captured = Counter("data_capture_records", "Invocations written to Data Capture files.", ["variant"],
                                registry=registry)
        self.dropped = Counter("data_capture_dropped", "Invocations not captured because the queue was full.",
                               ["variant"], registry=registry)
        self.queue: queue.Queue[Event | object] = queue.Queue(settings.queue_size)
        self.files: dict[str, CaptureFile] = {}
        self.thread: threading.Thread | None = None

    def sampled(self) -> bool:
        """Whether to capture this invocation (``percent`` of them, at random)."""
        return random.random() * 100 < self.settings.percent

    def record(self, event: Event) -> None:
        """Never blocks: a full queue (a writer that cannot keep up) drops the record and counts it."""
        try:
            self.queue.put_nowait(event)
        except queue.Full:
            self.dropped.labels(event.variant).inc()

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name="data-capture", daemon=True)
        self.thread.start()

    def close(self, timeout_s: float = 30.0) -> None:
        """Write what is queued, publish every file and end the writer."""
        if self.thread is not None:
            try:
                self.queue.put(_STOP, timeout=timeout_s)
                self.thread.join(timeout_s)
            except queue.Full:
                log.error("Data Capture's writer is stuck; the records still queued are lost")
            self.thread = None
        if not self.local:
            with contextlib.suppress(OSError):
                self.folder.rmdir()  # empty unless an upload failed: then the files stay for a person

    # -- the writer thread ------------------------------------------------------------------------

    def _run(self) -> None:
        check_s = min(self.settings.rotate_s, 1.0)
        while True:
            try:
                event = self.queue.get(timeout=check_s)
            except queue.Empty:
                event = None
            if event is _STOP:
                break
            try:
                if isinstance(event, Event):
                    self._write(event)
                self._rotate_old(time.time())
            except Exception:  # a full disk costs records, never the server
                log.exception("Data Capture could not write")
        for variant in list(self.files):
            self._publish(variant)

    def _write(self, event: Event) -> None:
        hour = time.strftime("%Y/%m/%d/%H", time.gmtime(event.time))
        current = self.files.get(event.variant)
        if current is not None and current.hour != hour:
            self._publish(event.variant)
            current = None
        if current is None:
            current = self.files[event.variant] = self._open(event.variant, hour)
        current.write(json.dumps(capture_record(event), ensure_ascii=False).encode("utf-8") + b"\n")
        self.captured.labels(event.variant).inc()
        if current.size >= self.settings.rotate_bytes:
            self._publish(event.variant)

    def _open(self, variant: str, hour: str) -> CaptureFile:
        """A new file named like SageMaker's (minute, second, millisecond of its opening, a uuid):
        in place in a local store, flat in the spool for an S3 one."""
        opened = time.time()
        stamp = time.strftime("%M-%S", time.gmtime(opened))
        key = f"{PREFIX}/{self.endpoint}/{variant}/{hour}/{stamp}-{int(opened * 1000) % 1000:03d}-{new_request_id()}.jsonl"
        return CaptureFile(key, self.folder / key.rsplit("/", 1)[0] if self.local else self.folder, hour, opened)

    def _rotate_old(self, now: float) -> None:
        for variant, current in list(self.files.items()):
            if now - current.opened >= self.settings.rotate_s:
                self._publish(variant)

    def _publish(self, variant: str) -> None:
        current = self.files.pop(variant)
        try:
            current.close()
            if self.local:
                os.replace(current.path, current.path.with_name(current.name))
            else:
                self.store.put_file(current.key, current.path)
                current.path.unlink()
        except Exception:  # a full disk or an unreachable store: the records are lost, the server is not
            log.exception("Data Capture could not publish %s (left at %s)", current.key, current.path)
