"""``sentiment-app monitor`` on the IMDB data: the bundled model's baseline computed once from the
training split and held-out reviews and kept in the store as Model Monitor's files; traffic drawn
from the test split passes every constraint, one-word reviews in another language break them (the
bands and Model Monitor's drift check alike). The capture files are written by the endpoint's own
capture code, the answers by the real handler chain."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from sentiment_app.artifacts.locate import bundled_model_dir
from sentiment_app.data.dataset import load_imdb
from sentiment_app.inference.handler import input_fn, output_fn, predict_fn
from sentiment_app.inference.model import SentimentModel
from sentiment_app.monitoring.baseline import REFERENCE_RECORDS, baseline_prefix
from sentiment_app.serving.capture import Event, capture_record
from sentiment_app.store.local import LocalStore
from tests.support import cli_in_home

pytestmark = pytest.mark.slow
NOW = datetime(2026, 12, 1, 16, 20, tzinfo=timezone.utc)
FOREIGN = ["Wunderbar!", "Schrecklich.", "Langweilig", "Großartig", "Furchtbar", "Sehenswert", "Enttäuschend",
           "Magnífica", "Aburrida", "Preciosa"]


def capture(store: LocalStore, endpoint: str, model: SentimentModel, reviews: list[str]) -> None:
    """The reviews as the endpoint captures them (text/plain in, JSON out), one file per hour."""
    lines = []
    for i, review in enumerate(reviews):
        text, media = output_fn(predict_fn(input_fn(review.encode(), "text/plain"), model), "application/json")
        event = Event("AllTraffic", review.encode(), "text/plain", text, media, str(uuid.uuid4()),
                      (NOW + timedelta(seconds=i)).timestamp())
        lines.append(json.dumps(capture_record(event)))
    store.put_bytes(f"datacapture/{endpoint}/AllTraffic/{NOW:%Y/%m/%d/%H}/20-00-000-{uuid.uuid4()}.jsonl",
                    ("\n".join(lines) + "\n").encode())


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, real_data: Path) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("home")
    store, model = LocalStore(home / "store"), SentimentModel.load(bundled_model_dir())
    test = load_imdb(real_data)["test"]
    picked = np.random.default_rng(11).choice(len(test), 200, replace=False)
    capture(store, "test-split", model, [test.texts[i] for i in picked])
    capture(store, "foreign", model, FOREIGN * 4)
    yield home


def monitor(home: Path, data: Path, endpoint: str) -> tuple[int, dict]:
    done = cli_in_home(home, "monitor", "--endpoint", endpoint, "--data", str(data), "--fail-on-violation", "--json")
    assert done.exit_code in (0, 3), done.output
    return done.exit_code, json.loads(done.stdout.splitlines()[-1])


def test_traffic_from_the_test_split_passes_every_constraint(home: Path, real_data: Path) -> None:
    code, result = monitor(home, real_data, "test-split")
    assert code == 0 and result["violations"] == [] and result["records"] == 200
    statuses = {check["constraint"]: check["status"] for check in result["checks"]}
    assert statuses == {"review_words_median": "ok", "unknown_word_share": "ok", "positive_rate": "ok",
                        "mean_confidence": "ok", "feedback_agreement": "too few to judge"}  # no feedback given
    assert result["constraint_violations"] == []
    traffic = json.loads(Path(result["report"]).with_name("statistics.json").read_text())
    assert traffic["dataset"]["item_count"] == 200


def test_one_word_reviews_in_another_language_break_the_baseline(home: Path, real_data: Path) -> None:
    code, result = monitor(home, real_data, "foreign")
    assert code == 3 and result["records"] == len(FOREIGN) * 4 >= REFERENCE_RECORDS
    assert {"review_words_median", "unknown_word_share", "mean_confidence"} <= set(result["violations"])
    checks = {check["constraint"]: check for check in result["checks"]}
    assert checks["review_words_median"]["lower"] > 50 > checks["review_words_median"]["observed"]
    report = Path(result["report"]).with_name("report.md").read_text()
    assert "| review_words_median |" in report.split("## Violations")[1].split("## Constraints")[0]
    listed = json.loads(Path(result["report"]).with_name("constraint_violations.json").read_text())["violations"]
    assert {("review_words", "baseline_drift_check"), ("review_words_median", "baseline_drift_check")} <= {
        (v["feature_name"], v["constraint_check_type"]) for v in listed}


def test_the_baseline_is_computed_once_per_model(home: Path, real_data: Path) -> None:
    prefix = baseline_prefix(SentimentModel.load(bundled_model_dir()).version)
    store = LocalStore(home / "store")
    monitor(home, real_data, "test-split")
    stored = {name: store.read_bytes(prefix + name) for name in ("statistics.json", "constraints.json", "bands.json")}
    bands = json.loads(stored["bands.json"])
    assert bands["data"]["train_reviews"] == 25_000 and bands["data"]["held_out_reviews"] == 2000
    assert len(bands["vocabulary"]) > 20_000
    statistics = json.loads(stored["statistics.json"])
    assert statistics["dataset"]["item_count"] == 2000
    features = {f["name"]: f for f in statistics["features"]}
    words = features["review_words"]["numerical_statistics"]
    assert words["common"]["num_present"] == 2000 and words["min"] >= 1 and words["mean"] > 100
    assert [len(level) for level in words["distribution"]["kll"]["sketch"]["data"]] == [2000]
    constraints = json.loads(stored["constraints.json"])
    assert [(f["name"], f["inferred_type"]) for f in constraints["features"]] == [
        ("review_words", "Integral"), ("probability", "Fractional"), ("label", "String")]
    monitor(home, real_data, "foreign")
    assert {name: store.read_bytes(prefix + name) for name in stored} == stored  # read back, not computed again
