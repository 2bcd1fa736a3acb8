"""Production and shadow variants and Data Capture on real endpoint processes (``sentiment-app
endpoint create``, ``serve``), called over HTTP and through boto3. The two bundled models serve as
two variants whose answers differ: ``bundled`` (nbsvm-stack) and ``lstm-seed``. (The parsing, the
router and the capture writer alone: ``tests/unit/test_variants.py``, ``tests/unit/test_capture.py``.)"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError

from sentiment_app.inference.handler import label
from sentiment_app.inference.model import SentimentModel
from sentiment_app.serving import lifecycle
from sentiment_app.settings import load_settings
from tests.serving_support import endpoint_cli, parse_metrics, served_app
from tests.support import Cli, MIXED_REVIEWS, POSITIVE, read_json_lines

VARIANT = "x-amzn-invoked-production-variant"
TARGET = "x-amzn-sagemaker-target-variant"
TEXT = {"content-type": "text/plain"}
SECRET_KEY = "sa_" + uuid.uuid4().hex
CALLS = 2000
DISPUTED = ["Not good.", "Fine.", "I did not like it."]  # reviews the two bundled models label differently


def wait_until(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def stop_all(home: Path) -> None:
    settings = load_settings(home=home)
    for endpoint in lifecycle.list_endpoints(settings):
        lifecycle.delete_endpoint(settings, endpoint.name)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A home of this module's own; whatever endpoint a test leaves behind is stopped."""
    path = tmp_path_factory.mktemp("variants-home")
    yield path
    stop_all(path)


@pytest.fixture(scope="module")
def cli(home: Path) -> Cli:
    return endpoint_cli(home)


def url_of(cli: Cli, name: str) -> str:
    return json.loads(cli("describe", name, "--json").output)["url"]


def runtime(url: str):  # type: ignore[no-untyped-def]
    return boto3.client("sagemaker-runtime", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="x", aws_secret_access_key="x")


def metric(url: str, name: str, **labels: str) -> float:
    return parse_metrics(httpx.get(f"{url}/metrics").text).get((name, frozenset(labels.items())), 0.0)


@pytest.fixture(scope="module")
def ab_test(cli: Cli) -> str:
    """80 % to the default model, 20 % to lstm-seed, and lstm-seed again as a shadow."""
    created = cli("create", "ab-test", "--variant", "A=bundled:0.8", "--variant", "B=lstm-seed:0.2",
                  "--shadow-variant", "S=lstm-seed").output
    assert "InService" in created and "80 %" in created and "shadow" in created
    return url_of(cli, "ab-test")


def test_calls_split_by_weight_and_every_metric_names_its_variant(
        ab_test: str, model: SentimentModel, lstm_model: SentimentModel) -> None:
    invocations = {"route": "/invocations", "method": "POST"}
    before = {v: metric(ab_test, "http_requests_total", **invocations, variant=v, status="200") for v in "AB"}
    with httpx.Client(base_url=ab_test, timeout=30) as client:
        replies = [client.post("/invocations", content=POSITIVE, headers=TEXT) for _ in range(CALLS)]
    assert {reply.status_code for reply in replies} == {200}
    served = Counter(reply.headers[VARIANT] for reply in replies)
    assert set(served) == {"A", "B"} and abs(served["A"] / CALLS - 0.8) <= 0.04
    versions = {reply.headers[VARIANT]: reply.json()["model_version"] for reply in replies}
    assert versions == {"A": model.version, "B": lstm_model.version}  # the answers differ by variant
    for variant in "AB":
        counted = metric(ab_test, "http_requests_total", **invocations, variant=variant, status="200")
        assert counted - before[variant] == served[variant]
        assert metric(ab_test, "http_request_duration_seconds_count", **invocations, variant=variant) >= served[variant]
    refused = httpx.post(f"{ab_test}/invocations", content="", headers={**TEXT, TARGET: "A"})
    assert refused.status_code == 400 and refused.headers[VARIANT] == "A"
    assert metric(ab_test, "http_request_errors_total", **invocations, variant="A", kind="client") == 1


def test_boto3_pins_a_variant_with_target_variant(ab_test: str, model: SentimentModel,
                                                  lstm_model: SentimentModel) -> None:
    client = runtime(ab_test)
    for target, version in (("A", model.version), ("B", lstm_model.version)):
        for _ in range(10):
            reply = client.invoke_endpoint(EndpointName="ab-test", Body=POSITIVE, ContentType="text/plain",
                                           TargetVariant=target)
            assert reply["InvokedProductionVariant"] == target
            assert json.loads(reply["Body"].read())["model_version"] == version
    for unknown in ("S", "C"):  # a shadow is not a production variant
        with pytest.raises(ClientError) as raised:
            client.invoke_endpoint(EndpointName="ab-test", Body=POSITIVE, ContentType="text/plain", TargetVariant=unknown)
        error = raised.value.response
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 400 and error["Error"]["Code"] == "ValidationError"
        assert f"'{unknown}' is not a production variant" in error["Error"]["Message"]
    plain = httpx.post(f"{ab_test}/invocations", content=POSITIVE, headers={**TEXT, TARGET: "C"})
    assert plain.status_code == 400 and "not a production variant" in plain.json()["error"]


def test_a_shadows_answers_never_reach_the_caller_and_are_compared(
        ab_test: str, cli: Cli, model: SentimentModel, lstm_model: SentimentModel) -> None:
    reviews = [*MIXED_REVIEWS, *DISPUTED] * 3
    outcomes = ("agree", "disagree", "error")
    before = {o: metric(ab_test, "shadow_predictions_total", variant="S", outcome=o) for o in outcomes}
    replies = [httpx.post(f"{ab_test}/invocations", content=review, headers={**TEXT, TARGET: "A"}) for review in reviews]
    assert all(r.status_code == 200 and r.headers[VARIANT] == "A" for r in replies)
    assert {r.json()["model_version"] for r in replies} == {model.version}  # never the shadow's lstm-seed

    def compared() -> dict[str, float]:
        return {o: metric(ab_test, "shadow_predictions_total", variant="S", outcome=o) - before[o] for o in outcomes}

    wait_until(lambda: sum(compared().values()) == len(reviews))  # the shadow runs after each answer has left
    agreeing = sum(label(a) == label(b) for a, b in zip(model.predict_proba(reviews), lstm_model.predict_proba(reviews)))
    assert 0 < agreeing < len(reviews)  # the two models disagree on some of these reviews
    assert compared() == {"agree": agreeing, "disagree": len(reviews) - agreeing, "error": 0}
    log_lines = [json.loads(line.split("sentiment_app.shadow: ", 1)[1]) for line in cli("logs", "ab-test").output.splitlines()
                 if "sentiment_app.shadow: " in line]
    logged = {entry["request_id"]: entry for entry in log_lines}
    for reply, review in zip(replies, reviews):
        entry = logged[reply.headers["x-request-id"]]
        assert entry["shadow"] == "S" and entry["variant"] == "A" and entry["reviews"] == 1
        assert entry["shadow_probabilities"] == [round(float(lstm_model.predict_proba([review])[0]), 4)]


def test_weights_change_under_load_without_a_failed_request(cli: Cli, home: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGEMAKER_MODEL_SERVER_WORKERS", "2")  # every worker process follows the weights file
    cli("create", "moving", "--variant", "A=bundled:1", "--variant", "B=lstm-seed:0")
    url = url_of(cli, "moving")
    results: list[tuple[float, float, str]] = []  # (when sent, when answered, the variant or what went wrong)
    stop = threading.Event()

    def client() -> None:
        with httpx.Client(base_url=url, timeout=30) as session:
            while not stop.is_set():
                sent = time.monotonic()
                try:
                    reply = session.post("/invocations", content=POSITIVE, headers=TEXT)
                    outcome = reply.headers[VARIANT] if reply.status_code == 200 else f"status {reply.status_code}"
                except httpx.HTTPError as exc:
                    outcome = f"failed: {exc!r}"
                results.append((sent, time.monotonic(), outcome))

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: len(results) >= 100)
        started = time.monotonic()
        updated = cli("update-weights", "moving", "A=0", "B=1").output
        done = time.monotonic()
        assert "new weights in force" in updated
        wait_until(lambda: sum(sent > done for sent, _, _ in list(results)) >= 100)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    assert [outcome for _, _, outcome in results if outcome not in ("A", "B")] == []
    assert {outcome for _, answered, outcome in results if answered < started} == {"A"}
    assert {outcome for sent, _, outcome in results if sent > done} == {"B"}  # in flight meanwhile: either
    described = cli("describe", "moving").output
    assert "Data capture: off" in described
    rows = {line.split()[0]: line.split()[1:3] for line in described.splitlines() if line[:2] in ("A ", "B ")}
    assert rows == {"A": ["0", "0"], "B": ["1", "100"]}
    assert json.loads(cli("describe", "moving", "--json").output)["variants"]["production"][1]["weight"] == 1
    assert "No production variant named S" in cli("update-weights", "moving", "S=1", ok=False).output
    weights = lifecycle.weights_path(load_settings(home=home), "moving")
    assert json.loads(weights.read_text()) == {"weights": {"A": 0, "B": 1}}
    cli("delete", "moving")
    assert not weights.exists()


def captured_records(store: Path, endpoint: str) -> dict[str, list[dict]]:
    """Every Data Capture record of ``endpoint``, by variant; no file may be left half-written."""
    folder = store / "datacapture" / endpoint
    assert not [path for path in folder.rglob(".*")], "a hidden (unpublished) file was left behind"
    records: dict[str, list[dict]] = {}
    for path in sorted(folder.rglob("*.jsonl")):
        variant, *hour = path.relative_to(folder).parts[:-1]
        assert len(hour) == 4 and all(part.isdigit() for part in hour)
        records.setdefault(variant, []).extend(read_json_lines(path))
    return records


def test_data_capture_keeps_requests_and_answers_but_never_the_api_key(
        cli: Cli, home: Path, model: SentimentModel, lstm_model: SentimentModel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGEMAKER_MODEL_SERVER_WORKERS", "2")  # two writers at once: their files never collide
    created = cli("create", "captured", "--variant", "A=bundled:1", "--variant", "B=lstm-seed:1",
                  "--shadow-variant", "S=lstm-seed", "--capture-percent", "100").output
    store = Path(load_settings(home=home).store)
    assert f"Data capture: 100 % of invocations to {store}/datacapture/captured/" in created
    url = url_of(cli, "captured")
    bodies = {"text/plain": POSITIVE.encode(), "application/json": json.dumps({"review": POSITIVE}).encode(),
              "text/csv": "\n".join(MIXED_REVIEWS).encode()}
    sent: dict[str, dict[str, tuple[str, bytes]]] = {"A": {}, "B": {}}  # variant → inference id → (type, body)
    for variant in "AB":
        for content_type, body in bodies.items():
            inference_id = f"{variant}-{uuid.uuid4()}"
            reply = httpx.post(f"{url}/endpoints/captured/invocations", content=body, headers={
                "content-type": content_type, TARGET: variant, "x-api-key": SECRET_KEY,
                "X-Amzn-SageMaker-Inference-Id": inference_id})
            assert reply.status_code == 200 and reply.headers[VARIANT] == variant
            sent[variant][inference_id] = (content_type, body)
    boto_id = str(uuid.uuid4())
    runtime(url).invoke_endpoint(EndpointName="captured", Body=POSITIVE, ContentType="text/plain",
                                 TargetVariant="A", InferenceId=boto_id)
    sent["A"][boto_id] = ("text/plain", POSITIVE.encode())
    unnamed = httpx.post(f"{url}/invocations", content=POSITIVE, headers={**TEXT, TARGET: "B"})  # an id is made
    assert unnamed.status_code == 200
    wait_until(lambda: metric(url, "data_capture_records_total", variant="S") == 8)
    assert metric(url, "data_capture_records_total", variant="A") == 4
    assert metric(url, "data_capture_records_total", variant="B") == 4
    assert metric(url, "data_capture_dropped_total", variant="A") == 0
    cli("delete", "captured")  # SIGTERM: the server publishes its files before it exits

    records = captured_records(store, "captured")
    assert set(records) == {"A", "B", "S"}
    raw = b"".join(path.read_bytes() for path in (store / "datacapture").rglob("*.jsonl"))
    assert SECRET_KEY.encode() not in raw and b"x-api-key" not in raw
    versions = {"A": model.version, "B": lstm_model.version, "S": lstm_model.version}
    for variant, entries in records.items():
        for record in entries:
            assert set(record) == {"captureData", "eventMetadata", "eventVersion"} and record["eventVersion"] == "0"
            request, answer = record["captureData"]["endpointInput"], record["captureData"]["endpointOutput"]
            assert request["mode"] == "INPUT" and answer["mode"] == "OUTPUT"
            assert answer == {"observedContentType": "application/json", "mode": "OUTPUT", "data": answer["data"],
                              "encoding": "JSON"}
            assert json.loads(answer["data"])["model_version"] == versions[variant]
            metadata = record["eventMetadata"]
            assert uuid.UUID(metadata["eventId"]).version == 4
            assert time.strptime(metadata["inferenceTime"], "%Y-%m-%dT%H:%M:%SZ")
    for variant in "AB":
        by_id = {r["eventMetadata"]["inferenceId"]: r["captureData"]["endpointInput"] for r in records[variant]}
        assert set(sent[variant]) <= set(by_id) and len(by_id) == len(sent[variant]) + (variant == "B")
        for inference_id, (content_type, body) in sent[variant].items():
            request = by_id[inference_id]
            assert request["observedContentType"] == content_type
            expected = {"text/plain": "BASE64", "application/json": "JSON", "text/csv": "CSV"}[content_type]
            assert request["encoding"] == expected
            if expected != "BASE64":
                assert request["data"].encode() == body  # the body as received
    made = [i for i in (r["eventMetadata"]["inferenceId"] for r in records["B"]) if i not in sent["B"]]
    assert len(made) == 1 and uuid.UUID(made[0]).version == 4
    shadow_ids = sorted(r["eventMetadata"]["inferenceId"] for r in records["S"])  # the shadow's, under the same ids
    assert shadow_ids == sorted(r["eventMetadata"]["inferenceId"] for v in "AB" for r in records[v])


def test_serve_passes_variants_and_capture_to_its_endpoint(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with served_app(home, "--variant", "A=bundled:1", "--variant", "B=lstm-seed:1", "--capture-percent", "100",
                    model=None) as served:
        answers = [httpx.post(f"{served.url}/api/sentiment", content=POSITIVE) for _ in range(8)]
        assert {answer.status_code for answer in answers} == {200}
        direct = httpx.post(f"http://127.0.0.1:{served.endpoint_port}/invocations", content=POSITIVE,
                            headers={**TEXT, TARGET: "B"})
        assert direct.headers[VARIANT] == "B"
    records = captured_records(Path(load_settings(home=home).store), "local-sentiment")
    assert set(records) <= {"A", "B"} and sum(map(len, records.values())) == 9
    captured_ids = {r["eventMetadata"]["inferenceId"] for entries in records.values() for r in entries}
    assert {answer.json()["inference_id"] for answer in answers} <= captured_ids  # the Lambda's ids, kept
