"""Monitoring on files in the contract's formats: Data Capture lines (written by the endpoint's own
capture code, answers made by the real handler chain and the bundled model) and feedback entries.
Reading every encoding back, joining feedback into labeled rows (``feedback export``), and the drift
report on a baseline of made-up reviews: quiet on more of the same, loud on one-word reviews in
another language. (The same on the IMDB data: ``tests/system/test_monitor.py``.)"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from sentiment_app.artifacts.locate import bundled_model_dir
from sentiment_app.data.dataset import Reviews
from sentiment_app.inference.handler import input_fn, output_fn, predict_fn
from sentiment_app.inference.model import SentimentModel
from sentiment_app.monitoring.baseline import (REFERENCE_RECORDS, Bands, Baseline, baseline_prefix, compute_baseline,
                                               read_baseline, store_baseline)
from sentiment_app.monitoring.feedback import export_feedback, join, read_feedback, write_labeled
from sentiment_app.monitoring.monitor import run_monitor
from sentiment_app.monitoring.traffic import Verdict, read_traffic
from sentiment_app.pipeline import extra_reviews
from sentiment_app.serving.capture import Event, capture_record
from sentiment_app.store import ArtifactStore, open_store
from sentiment_app.store.local import LocalStore
from tests.aws_support import BUCKET, recording_aws, s3_objects
from tests.support import cli_in_home

ENDPOINT, VARIANT = "local-sentiment", "AllTraffic"
NOW = datetime(2026, 12, 1, 16, 20, tzinfo=timezone.utc)
GOOD = ["great", "wonderful", "brilliant", "loved", "superb", "moving", "funny", "excellent"]
BAD = ["awful", "boring", "dull", "worst", "waste", "stupid", "terrible", "mess"]
FILLER = ("the a and of to is in it that this film movie story plot acting cast scene scenes director "
          "character characters ending was with for as but his her they on at by an be one all so very").split()
FOREIGN = ["Wunderbar!", "Schrecklich.", "Langweilig", "Großartig", "Furchtbar", "Sehenswert", "Enttäuschend"]


def made_up(rng: np.random.Generator, count: int) -> Reviews:
    """Reviews of the same kind every time: filler words around a few words of their mood, now and
    then a name nobody else uses (unknown to any vocabulary)."""
    labels = rng.integers(0, 2, count)
    texts = []
    for label in labels.tolist():
        length = int(rng.integers(20, 120))
        words = list(rng.choice(FILLER, length)) + list(rng.choice(GOOD if label else BAD, max(2, length // 10)))
        words += ["".join(rng.choice(list("bcdfgklmnprstvz"), 7)) for _ in range(int(rng.integers(0, 3)))]
        texts.append(" ".join(rng.permutation(words).tolist()))
    return Reviews(texts, labels)


@pytest.fixture(scope="module")
def baseline(model: SentimentModel) -> Baseline:
    rng = np.random.default_rng(0)
    held_out = made_up(rng, 400)
    return compute_baseline(model, made_up(rng, 600).texts, held_out.texts, held_out.labels, {"made_up": True})


def invocation(model: SentimentModel, body: bytes, content_type: str | None, accept: str = "application/json",
               inference_id: str | None = None, when: datetime = NOW, variant: str = VARIANT) -> dict:
    """One capture record as the endpoint writes it: the request through the real handler chain."""
    text, media = output_fn(predict_fn(input_fn(body, content_type), model), accept)
    return capture_record(Event(variant, body, content_type, text, media, inference_id or str(uuid.uuid4()),
                                when.timestamp()))


def put_capture(store: ArtifactStore, records: list[dict | str], when: datetime = NOW, variant: str = VARIANT) -> None:
    lines = [line if isinstance(line, str) else json.dumps(line) for line in records]
    key = f"datacapture/{ENDPOINT}/{variant}/{when:%Y/%m/%d/%H}/{when:%M-%S}-000-{uuid.uuid4()}.jsonl"
    store.put_bytes(key, ("\n".join(lines) + "\n").encode("utf-8"))


def put_feedback(store: ArtifactStore, inference_id: str, label: str, when: datetime = NOW) -> None:
    entry = {"inferenceId": inference_id, "label": label, "time": f"{when:%Y-%m-%dT%H:%M:%SZ}"}
    store.put_bytes(f"feedback/{ENDPOINT}/{when:%Y/%m/%d/%H}/{inference_id}.json", json.dumps(entry).encode())


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "home" / "store")


# -- capture files read back ---------------------------------------------------------------------------

def test_every_body_the_endpoint_takes_is_read_back(model: SentimentModel, store: LocalStore) -> None:
    review = "A wonderful film, I loved it."
    put_capture(store, [
        invocation(model, review.encode(), "text/plain; charset=utf-8", inference_id="plain"),  # BASE64
        invocation(model, json.dumps({"review": review}).encode(), "application/json", inference_id="json"),
        invocation(model, json.dumps({"instances": [review, "Dull."]}).encode(), "application/json",
                   inference_id="instances"),
        invocation(model, f"{review}\nDull and boring.\n".encode(), "text/csv", "text/plain", inference_id="csv"),
        invocation(model, review.encode(), "text/plain", "text/plain", inference_id="bare"),
    ])
    records = {r.inference_id: r for r in read_traffic(store, ENDPOINT).records}
    assert records["plain"].reviews == records["json"].reviews == (review,)
    assert records["plain"].verdicts == records["json"].verdicts
    [verdict] = records["json"].verdicts
    assert verdict.label == "positive" and verdict.probability == pytest.approx(model.predict_proba([review])[0],
                                                                                abs=1e-6)
    assert records["json"].model_version == model.version and records["json"].variant == VARIANT
    assert records["instances"].reviews == (review, "Dull.")
    assert [v.label for v in records["instances"].verdicts] == ["positive", "negative"]
    assert records["csv"].reviews == (review, "Dull and boring.")
    assert records["csv"].verdicts == (Verdict("positive", None), Verdict("negative", None))  # bare 1.0 / 0.0
    assert records["bare"].model_version is None and records["plain"].time == NOW


def test_lines_that_are_not_records_are_counted_not_fatal(model: SentimentModel, store: LocalStore) -> None:
    good = invocation(model, b"Great fun.", "text/plain")
    wrong_count = json.loads(json.dumps(good))
    wrong_count["captureData"]["endpointInput"] = {"observedContentType": "text/csv", "encoding": "CSV",
                                                   "data": "one\ntwo", "mode": "INPUT"}
    bad_base64 = json.loads(json.dumps(good))
    bad_base64["captureData"]["endpointInput"]["data"] = "!!not base64!!"
    unknown = json.loads(json.dumps(good))
    unknown["captureData"]["endpointInput"]["encoding"] = "XML"
    put_capture(store, [good, "{not json", '{"captureData": 5}', wrong_count, bad_base64, unknown, ""])
    traffic = read_traffic(store, ENDPOINT)
    assert len(traffic) == 1 and traffic.unreadable == 5


def test_handwritten_contract_records_are_read(store: LocalStore) -> None:
    """A record exactly as the contract shows it: JSON input, base64 JSON output."""
    answer = base64.b64encode(b'{"label": "negative", "probability": 0.1, "model_version": "abc"}').decode()
    record = {"captureData": {
        "endpointInput": {"observedContentType": "application/json", "mode": "INPUT",
                          "data": '{"review": "Dull."}', "encoding": "JSON"},
        "endpointOutput": {"observedContentType": "application/json", "mode": "OUTPUT", "data": answer,
                           "encoding": "BASE64"}},
        "eventMetadata": {"eventId": str(uuid.uuid4()), "inferenceId": "id-1", "inferenceTime": "2026-12-01T16:20:00Z"},
        "eventVersion": "0"}
    put_capture(store, [record])
    [captured] = read_traffic(store, ENDPOINT).records
    assert captured.reviews == ("Dull.",) and captured.verdicts == (Verdict("negative", 0.1),)
    assert captured.verdicts[0].confidence == pytest.approx(0.9) and captured.model_version == "abc"


def test_since_skips_older_hours_and_records(model: SentimentModel, store: LocalStore) -> None:
    for hours in (0, 1, 2):
        when = NOW + timedelta(hours=hours)
        put_capture(store, [invocation(model, b"Fine.", "text/plain", inference_id=f"h{hours}", when=when)], when)
    assert [r.inference_id for r in read_traffic(store, ENDPOINT).records] == ["h0", "h1", "h2"]
    since = NOW + timedelta(hours=1, minutes=5)
    assert [r.inference_id for r in read_traffic(store, ENDPOINT, since).records] == ["h2"]


# -- feedback joined ---------------------------------------------------------------------------------

def captured_with_feedback(model: SentimentModel, store: ArtifactStore) -> None:
    """Three single reviews with feedback (one corrected later), a batch with feedback, feedback
    without a capture, and a damaged feedback file."""
    for name, review in (("a", "A wonderful film."), ("b", "Dull and boring."), ("c", "Not bad at all.")):
        put_capture(store, [invocation(model, review.encode(), "text/plain", inference_id=name)])
    put_capture(store, [invocation(model, json.dumps({"instances": ["x y", "z"]}).encode(), "application/json",
                                   inference_id="batch")])
    put_feedback(store, "a", "positive")
    put_feedback(store, "b", "positive")
    put_feedback(store, "b", "negative", NOW + timedelta(hours=1))  # the newer word counts
    put_feedback(store, "c", "positive", NOW + timedelta(minutes=1))
    put_feedback(store, "batch", "negative")
    put_feedback(store, "lost", "negative")
    store.put_bytes(f"feedback/{ENDPOINT}/2026/12/01/16/broken.json", b"{")
    store.put_bytes(f"feedback/{ENDPOINT}/2026/12/01/16/no-time.json", b'{"inferenceId": "a", "label": "negative", '
                                                                     b'"time": 5}')


def test_feedback_joins_by_inference_id(model: SentimentModel, store: LocalStore) -> None:
    captured_with_feedback(model, store)
    feedback = read_feedback(store, ENDPOINT)
    assert feedback.unreadable == 2 and feedback.entries["b"].label == "negative"
    joined = join(read_traffic(store, ENDPOINT).records, feedback.entries)
    assert joined.reviews.texts == ["A wonderful film.", "Not bad at all.", "Dull and boring."]  # by feedback time
    assert joined.reviews.labels.tolist() == [1, 1, 0]
    assert (joined.feedback, joined.without_capture, joined.batches) == (5, 1, 1)


def test_feedback_export_writes_rows_train_reads(model: SentimentModel, store: LocalStore, tmp_path: Path) -> None:
    captured_with_feedback(model, store)
    home, output = tmp_path / "home", tmp_path / "out" / "extra.csv"
    done = cli_in_home(home, "feedback", "export", "--output", str(output), "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout.splitlines()[-1]) == {"joined": 3, "feedback": 5, "without_capture": 1,
                                                        "batches": 1, "unreadable": 2, "output": str(output)}
    assert "1 of 5 feedback entries had no captured review" in done.stdout
    extra = extra_reviews(output)
    assert extra.texts == ["A wonderful film.", "Not bad at all.", "Dull and boring."]
    assert extra.labels.tolist() == [1, 1, 0]
    later = cli_in_home(home, "feedback", "export", "--output", str(output), "--since", "2026-12-01T17:00:00Z")
    assert later.exit_code == 0 and extra_reviews(output).texts == ["Dull and boring."]


def test_export_reads_an_s3_store_and_writes_to_s3(model: SentimentModel, monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    """The store and the output in S3 (moto), as on AWS where capture and feedback land in a bucket."""
    with recording_aws(monkeypatch, tmp_path):
        store = open_store(f"s3://{BUCKET}/sentiment-app")
        captured_with_feedback(model, store)
        joined = export_feedback(store, ENDPOINT)
        write_labeled(f"s3://{BUCKET}/exports/feedback.csv", joined.reviews)
        [(key, data)] = s3_objects(f"s3://{BUCKET}/exports/").items()
    assert key == "exports/feedback.csv"
    (tmp_path / "feedback.csv").write_bytes(data)
    assert extra_reviews(tmp_path / "feedback.csv").labels.tolist() == [1, 1, 0]


def test_export_without_anything_to_join_writes_nothing(store: LocalStore, tmp_path: Path) -> None:
    put_feedback(store, "lost", "negative")
    output = tmp_path / "extra.csv"
    done = cli_in_home(tmp_path / "home", "feedback", "export", "--output", str(output))
    assert done.exit_code == 1 and "nothing written" in done.stderr and "capture-percent" in done.stderr
    assert not output.exists()
    bad = cli_in_home(tmp_path / "home", "feedback", "export", "--output", str(output), "--since", "yesterday")
    assert bad.exit_code == 2 and "ISO 8601" in bad.stderr


# -- drift ---------------------------------------------------------------------------------------------

def test_baseline_survives_its_files(baseline: Baseline, store: LocalStore) -> None:
    prefix = baseline_prefix(baseline.bands.model_version)
    store_baseline(store, prefix, baseline)
    assert sorted(store.list(prefix)) == [prefix + name for name in ("bands.json", "constraints.json",
                                                                     "statistics.json")]
    again = read_baseline(store, prefix)
    assert again == baseline and Bands.from_json(baseline.bands.to_json()) == baseline.bands
    assert [c.name for c in again.bands.constraints] == ["review_words_median", "unknown_word_share", "positive_rate",
                                                         "mean_confidence", "feedback_agreement"]
    shares = {c.name: c for c in again.bands.constraints}
    assert shares["unknown_word_share"].lower is None and shares["feedback_agreement"].upper is None
    assert all(c.lower is None or c.upper is None or c.lower <= c.baseline <= c.upper for c in again.bands.constraints)


def traffic(model: SentimentModel, store: LocalStore, reviews: Reviews, feedback: bool = True) -> None:
    records = []
    for i, (text, label) in enumerate(zip(reviews.texts, reviews.labels.tolist())):
        records.append(invocation(model, text.encode(), "text/plain", inference_id=f"r{i}",
                                  when=NOW + timedelta(seconds=i)))
        if feedback:
            put_feedback(store, f"r{i}", "positive" if label else "negative")
    put_capture(store, records)


def monitor(home: Path, *args: str) -> tuple[int, dict, str]:
    done = cli_in_home(home, "monitor", "--model", str(bundled_model_dir()), "--json", *args)
    return done.exit_code, json.loads(done.stdout.splitlines()[-1]), done.stdout


def stored_baseline(store: LocalStore, baseline: Baseline) -> None:
    """The baseline where the monitor looks for it (no data set is needed then)."""
    store_baseline(store, baseline_prefix(baseline.bands.model_version), baseline)


def test_monitor_is_quiet_on_traffic_like_the_baseline(model: SentimentModel, baseline: Baseline, store: LocalStore,
                                                       tmp_path: Path) -> None:
    stored_baseline(store, baseline)
    traffic(model, store, made_up(np.random.default_rng(7), 60))
    code, result, _ = monitor(tmp_path / "home", "--fail-on-violation")
    assert code == 0 and result["violations"] == [] and result["records"] == 60
    assert all(check["status"] == "ok" for check in result["checks"]) and result["constraint_violations"] == []
    report = Path(result["report"])
    assert report == tmp_path / "home" / "monitoring" / ENDPOINT / "report.html"
    assert {"report.md", "review_words.png", "confidence.png", "statistics.json",
            "constraint_violations.json"} <= {p.name for p in report.parent.iterdir()}


def test_monitor_flags_one_word_reviews_in_another_language(model: SentimentModel, baseline: Baseline,
                                                            store: LocalStore, tmp_path: Path) -> None:
    stored_baseline(store, baseline)
    drift = Reviews(FOREIGN * 6, np.array([1, 0, 0, 1, 0, 1, 0] * 6))
    traffic(model, store, drift)
    code, result, out = monitor(tmp_path / "home", "--fail-on-violation", "--output", str(tmp_path / "report"))
    assert code == 3
    assert {"review_words_median", "unknown_word_share"} <= set(result["violations"])
    checks = {check["constraint"]: check for check in result["checks"]}
    assert checks["review_words_median"]["observed"] == 1 and checks["unknown_word_share"]["observed"] == 1
    assert "violation: review_words_median = 1, outside the baseline's band" in out
    page = (tmp_path / "report" / "report.md").read_text()
    violations = page.split("## Violations")[1].split("##")[0]
    assert "review_words_median" in violations and "unknown_word_share" in violations
    listed = json.loads((tmp_path / "report" / "constraint_violations.json").read_text())["violations"]
    assert listed == result["constraint_violations"]
    found = {(v["feature_name"], v["constraint_check_type"]) for v in listed}
    assert {("review_words", "baseline_drift_check"), ("review_words_median", "baseline_drift_check"),
            ("unknown_word_share", "baseline_drift_check")} <= found  # Model Monitor's check and the bands'
    assert "review_words_median" in page.split("## Constraint violations")[1].split("##")[0]
    assert monitor(tmp_path / "home")[0] == 0  # without --fail-on-violation the report is the answer


def test_monitor_judges_only_enough_traffic_of_its_own_model(model: SentimentModel, baseline: Baseline,
                                                             store: LocalStore, tmp_path: Path) -> None:
    """Too few reviews are not judged; answers of another model version (a shadow, say) do not count."""
    stored_baseline(store, baseline)
    traffic(model, store, Reviews(FOREIGN[:REFERENCE_RECORDS // 10], np.zeros(3, dtype=np.int64)))
    other = invocation(model, b'{"review": "Wunderbar!"}', "application/json", variant="shadow")
    other["captureData"]["endpointOutput"]["data"] = json.dumps({"label": "negative", "probability": 0.2,
                                                                 "model_version": "0123456789ab"})
    put_capture(store, [other] * REFERENCE_RECORDS, variant="shadow")
    code, result, out = monitor(tmp_path / "home", "--fail-on-violation")
    assert code == 0 and result["violations"] == [] and result["records"] == 3
    assert result["other_versions"] == REFERENCE_RECORDS
    assert {check["status"] for check in result["checks"]} == {"too few to judge"}
    assert "is Data Capture on" in out


def test_monitor_flags_feedback_that_disagrees(model: SentimentModel, baseline: Baseline, store: LocalStore,
                                               tmp_path: Path) -> None:
    stored_baseline(store, baseline)
    reviews = made_up(np.random.default_rng(8), 40)
    verdicts = model.predict_proba(reviews.texts) >= 0.5
    traffic(model, store, Reviews(reviews.texts, (~verdicts).astype(np.int64)))  # every verdict called wrong
    _, result, _ = monitor(tmp_path / "home")
    assert result["violations"] == ["feedback_agreement"]
    assert [v["feature_name"] for v in result["constraint_violations"]] == ["feedback_agreement"]
    assert {c["constraint"]: c["observed"] for c in result["checks"]}["feedback_agreement"] == 0


def test_run_monitor_reads_traffic_since(model: SentimentModel, baseline: Baseline, store: LocalStore,
                                         tmp_path: Path) -> None:
    traffic(model, store, made_up(np.random.default_rng(9), 5), feedback=False)
    result = run_monitor(store, ENDPOINT, model, baseline, tmp_path / "r", since=NOW + timedelta(seconds=3))
    assert result.records == 2 and result.reviews == 2
