"""Data Capture's writer on its own: SageMaker's record format (every field), the encodings, files
published whole in hour folders and rotated by size, age and hour, a full queue that drops and
counts instead of blocking, and an S3 store (moto). (Through real endpoints:
``tests/system/test_variants.py``.)"""

from __future__ import annotations

import base64
import calendar
import json
import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from sentiment_app.serving.capture import CaptureSettings, DataCapture, Event, capture_record, encoded
from sentiment_app.store import open_store
from tests.aws_support import BUCKET, Recorder
from tests.support import read_json_lines

FILE_NAME = re.compile(r"[0-5][0-9]-[0-5][0-9]-[0-9]{3}-[0-9a-f-]{36}\.jsonl")
HOUR = calendar.timegm((2026, 12, 1, 16, 20, 0))  # 2026-12-01 16:20:00 UTC


def event(variant: str = "A", body: bytes = b"A fine film.", content_type: str | None = "text/plain",
          at: float = HOUR, inference_id: str | None = None) -> Event:
    return Event(variant, body, content_type, '{"label": "positive"}', "application/json",
                 inference_id or str(uuid.uuid4()), at)


def capture(store: str, **limits: float) -> tuple[DataCapture, CollectorRegistry]:
    registry = CollectorRegistry()
    return DataCapture(CaptureSettings(100.0, store, **limits), "my-endpoint", registry), registry  # type: ignore[arg-type]


def published(root: Path) -> list[Path]:
    """The files a reader would take: hidden ones are still being written."""
    return sorted(path for path in root.rglob("*") if path.is_file() and not path.name.startswith("."))


def wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def count(registry: CollectorRegistry, name: str, variant: str) -> float:
    return registry.get_sample_value(name, {"variant": variant}) or 0.0


@pytest.mark.parametrize("data, content_type, expected", [
    (b"a,b\nc,d", "text/csv", ("a,b\nc,d", "CSV")),
    (b'{"review": "caf\xc3\xa9"}', "application/json; charset=utf-8", ('{"review": "café"}', "JSON")),
    ("1.0", "text/plain", ("MS4w", "BASE64")),
    (b"\xff\xfe{}", "application/json", ("//57fQ==", "BASE64")),  # not UTF-8
    (b"x", None, ("eA==", "BASE64")),
])
def test_encodings_follow_sagemaker(data: bytes | str, content_type: str | None, expected: tuple[str, str]) -> None:
    assert encoded(data, content_type) == expected


def test_records_have_every_field_and_files_appear_only_whole(tmp_path: Path) -> None:
    writer, registry = capture(str(tmp_path))
    writer.start()
    body = "Un film magnifique, 10/10 \u2764".encode()
    writer.record(event(body=body, inference_id="my-inference-1"))
    writer.record(event("B", b"line one\nline two", "text/csv", HOUR + 1))
    wait_for(lambda: count(registry, "data_capture_records_total", "B") == 1)
    assert published(tmp_path) == [] and len(list(tmp_path.rglob(".*.tmp"))) == 2  # written, not yet whole
    writer.close()
    files = published(tmp_path)
    assert [path.relative_to(tmp_path).parent.as_posix() for path in files] == [
        "datacapture/my-endpoint/A/2026/12/01/16", "datacapture/my-endpoint/B/2026/12/01/16"]
    assert all(FILE_NAME.fullmatch(path.name) for path in files)
    [first], [second] = (read_json_lines(path) for path in files)
    assert set(first) == {"captureData", "eventMetadata", "eventVersion"} and first["eventVersion"] == "0"
    assert first["captureData"]["endpointInput"] == {
        "observedContentType": "text/plain", "mode": "INPUT", "data": base64.b64encode(body).decode(), "encoding": "BASE64"}
    assert first["captureData"]["endpointOutput"] == {
        "observedContentType": "application/json", "mode": "OUTPUT", "data": '{"label": "positive"}', "encoding": "JSON"}
    metadata = first["eventMetadata"]
    assert set(metadata) == {"eventId", "inferenceId", "inferenceTime"}
    assert uuid.UUID(metadata["eventId"]).version == 4 and metadata["inferenceId"] == "my-inference-1"
    assert metadata["inferenceTime"] == "2026-12-01T16:20:00Z"
    assert second["captureData"]["endpointInput"]["data"] == "line one\nline two"
    assert second["eventMetadata"]["inferenceTime"] == "2026-12-01T16:20:01Z"
    assert uuid.UUID(second["eventMetadata"]["inferenceId"]).version == 4
    assert count(registry, "data_capture_records_total", "A") == count(registry, "data_capture_records_total", "B") == 1


def test_files_rotate_by_size_age_and_hour(tmp_path: Path) -> None:
    line = len(json.dumps(capture_record(event(inference_id="size-0")), ensure_ascii=False)) + 1
    writer, _ = capture(str(tmp_path), rotate_bytes=3 * line - 1, rotate_s=1.0)  # a new file every 3 records
    writer.start()
    for i in range(10):
        writer.record(event(inference_id=f"size-{i}"))
    writer.record(event(at=HOUR + 3600, inference_id="next-hour"))
    wait_for(lambda: len(published(tmp_path)) == 5)  # the last two published by age alone, the writer still running
    writer.close()
    by_hour: dict[str, list[list[str]]] = {}
    for path in published(tmp_path):
        ids = [record["eventMetadata"]["inferenceId"] for record in read_json_lines(path)]
        by_hour.setdefault(path.parent.name, []).append(ids)
    assert by_hour["17"] == [["next-hour"]]
    assert sorted(len(ids) for ids in by_hour["16"]) == [1, 3, 3, 3]
    assert sorted(i for ids in by_hour["16"] for i in ids) == sorted(f"size-{i}" for i in range(10))
    assert not list(tmp_path.rglob(".*"))  # nothing half-written left behind


def test_a_full_queue_drops_and_counts_instead_of_blocking(tmp_path: Path) -> None:
    writer, registry = capture(str(tmp_path), queue_size=2)  # its writer not started: nothing drains the queue
    for i in range(5):
        writer.record(event(inference_id=f"queued-{i}"))  # returns at once even with the queue full
    assert count(registry, "data_capture_dropped_total", "A") == 3
    assert count(registry, "data_capture_records_total", "A") == 0
    writer.start()
    writer.close()  # writes what was queued
    [path] = published(tmp_path)
    assert [r["eventMetadata"]["inferenceId"] for r in read_json_lines(path)] == ["queued-0", "queued-1"]
    assert count(registry, "data_capture_records_total", "A") == 2


def test_an_unwritable_store_costs_records_not_the_writer(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocked = tmp_path / "store"
    blocked.write_text("a file where the store's folder should be")
    writer, registry = capture(str(blocked))
    writer.start()
    writer.record(event())
    writer.close()
    assert "Data Capture could not write" in caplog.text
    assert count(registry, "data_capture_records_total", "A") == 0


def test_files_are_uploaded_to_an_s3_store(aws: Recorder) -> None:
    writer, _ = capture(f"s3://{BUCKET}/capture-prefix")
    writer.start()
    for variant in ("A", "B"):
        writer.record(event(variant, inference_id=f"s3-{variant}"))
    spool = writer.folder
    writer.close()
    store = open_store(f"s3://{BUCKET}/capture-prefix")
    keys = store.list("datacapture/my-endpoint")
    assert [key.rsplit("/", 1)[0] for key in keys] == ["datacapture/my-endpoint/A/2026/12/01/16",
                                                       "datacapture/my-endpoint/B/2026/12/01/16"]
    for key, variant in zip(keys, "AB"):
        [record] = [json.loads(line) for line in store.read_bytes(key).splitlines()]
        assert record["eventMetadata"]["inferenceId"] == f"s3-{variant}"
    assert not spool.exists()  # the local spool is gone once everything is uploaded
