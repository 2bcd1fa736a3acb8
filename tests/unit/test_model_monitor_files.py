"""Model Monitor's own files: the baseline's ``statistics.json`` and ``constraints.json`` and a run's
``statistics.json`` and ``constraint_violations.json`` follow the schemas AWS documents for the
pre-built analyzer ("Schema for Statistics", "Schema for Constraints", "Schema for Violations"),
checked field by field below; a baseline shaped like SageMaker's (hand-written from those pages,
read from a folder and from an S3 prefix) decides drift on traffic the endpoint's own capture code
wrote; and the checks behave as the analyzer's do."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sentiment_app.artifacts.locate import bundled_model_dir
from sentiment_app.inference.model import SentimentModel
from sentiment_app.monitoring import kll
from sentiment_app.monitoring.baseline import Baseline, baseline_prefix, store_baseline
from sentiment_app.monitoring.constraints_file import feature_config
from sentiment_app.monitoring.monitor import run_monitor
from sentiment_app.monitoring.statistics_file import read_statistics
from sentiment_app.monitoring.violations import check_constraints
from sentiment_app.store.local import LocalStore
from tests.aws_support import BUCKET, put_s3, recording_aws
from tests.support import cli_in_home
from tests.unit.test_monitoring import FOREIGN, baseline, invocation, made_up, put_capture, store, traffic  # noqa: F401 (fixtures)

# -- the documented schemas, as a checker reads them ----------------------------------------------
# A dict names required keys ("key?" optional), a list the schema of every item, a frozenset the
# allowed values, a type (or tuple of types) the JSON type; numbers are int or float, never bool.

NUMBER = (int, float)
COMMON = {"num_present": NUMBER, "num_missing": NUMBER}
NUMERICAL = {"common": COMMON, "mean": NUMBER, "sum": NUMBER, "std_dev": NUMBER, "min": NUMBER, "max": NUMBER,
             "distribution": {"kll": {"buckets": [{"lower_bound": NUMBER, "upper_bound": NUMBER, "count": NUMBER}],
                                      "sketch": {"parameters": {"c": NUMBER, "k": NUMBER}, "data": [[NUMBER]]}}}}
STRINGS = {"common": COMMON, "distinct_count": NUMBER,
           "distribution": {"categorical": {"buckets": [{"value": str, "count": NUMBER}]}}}
TYPES = frozenset({"Integral", "Fractional", "String", "Unknown"})
STATISTICS = {"version": NUMBER, "dataset": {"item_count": NUMBER},
              "features": [{"name": str, "inferred_type": TYPES, "numerical_statistics?": NUMERICAL,
                            "string_statistics?": STRINGS}]}
ENABLED = frozenset({"Enabled", "Disabled"})
CONSTRAINTS = {"version": NUMBER,
               "features": [{"name": str, "inferred_type": TYPES, "completeness?": NUMBER,
                             "num_constraints?": {"is_non_negative": bool},
                             "string_constraints?": {"domains": [str]}, "monitoringConfigOverrides?": dict}],
               "monitoring_config": {
                   "evaluate_constraints": ENABLED, "emit_metrics": ENABLED, "datatype_check_threshold": NUMBER,
                   "domain_content_threshold": NUMBER,
                   "distribution_constraints": {"perform_comparison": ENABLED, "comparison_threshold": NUMBER,
                                                "comparison_method": frozenset({"Simple", "Robust"}),
                                                "categorical_comparison_threshold?": NUMBER,
                                                "categorical_drift_method?": frozenset({"LInfinity", "ChiSquared"})}}}
CHECK_TYPES = frozenset({"data_type_check", "completeness_check", "baseline_drift_check", "missing_column_check",
                         "extra_column_check", "categorical_values_check"})
VIOLATIONS = {"violations": [{"feature_name": str, "constraint_check_type": CHECK_TYPES, "description": str}]}


def conforms(value: Any, schema: Any, where: str = "$") -> None:
    """Raise AssertionError naming the first place ``value`` leaves ``schema``."""
    if isinstance(schema, dict):
        assert isinstance(value, dict), f"{where}: not an object"
        for key, inner in schema.items():
            name = key.rstrip("?")
            assert name in value or key.endswith("?"), f"{where}: no {name!r}"
            if name in value:
                conforms(value[name], inner, f"{where}.{name}")
    elif isinstance(schema, list):
        assert isinstance(value, list), f"{where}: not an array"
        for i, item in enumerate(value):
            conforms(item, schema[0], f"{where}[{i}]")
    elif isinstance(schema, frozenset):
        assert value in schema, f"{where}: {value!r} is not one of {sorted(schema)}"
    else:
        assert isinstance(value, schema) and (schema is bool or not isinstance(value, bool)), \
            f"{where}: {value!r} is not {schema}"


def conforms_statistics(document: dict[str, Any]) -> None:
    """The schema, and the block each type carries: numbers their numerical statistics, strings
    their string statistics."""
    conforms(document, STATISTICS)
    for feature in document["features"]:
        key = {"Integral": "numerical_statistics", "Fractional": "numerical_statistics"}.get(
            feature["inferred_type"], "string_statistics")
        assert key in feature, f"{feature['name']}: {feature['inferred_type']} without {key}"


# -- a baseline shaped like the analyzer's, hand-written from the schema pages ------------------------
# 400 baseline reviews: a sketch compacted to level 3 (each item stands for 8 values).

LENGTHS = [22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 43, 46, 49, 52, 55, 58, 61, 64, 67, 70, 73, 75, 77, 79, 81, 83,
           85, 87, 89, 91, 93, 95, 97, 99, 101, 103, 105, 107, 109, 111, 113, 115, 117, 119, 121, 123, 125, 127, 129,
           131]
PROBABILITIES = [0.0002, 0.0004, 0.0007, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.007, 0.009, 0.012, 0.015,
                 0.02, 0.025, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.45, 0.7, 0.8, 0.85, 0.88, 0.9, 0.92, 0.93,
                 0.94, 0.95, 0.955, 0.96, 0.965, 0.97, 0.973, 0.976, 0.979, 0.981, 0.983, 0.985, 0.987, 0.988, 0.989,
                 0.99, 0.991, 0.992, 0.993, 0.995]


def numerical(values: list[float]) -> dict[str, Any]:
    weighted = np.repeat(values, 8)
    counts, edges = np.histogram(weighted, bins=10)
    return {"common": {"num_present": 400, "num_missing": 0}, "mean": float(weighted.mean()),
            "sum": float(weighted.sum()), "std_dev": float(weighted.std()), "min": min(values), "max": max(values),
            "distribution": {"kll": {
                "buckets": [{"lower_bound": float(a), "upper_bound": float(b), "count": float(n)}
                            for a, b, n in zip(edges[:-1], edges[1:], counts)],
                "sketch": {"parameters": {"c": 0.64, "k": 2048.0}, "data": [[], [], [], values]}}}}


SAGEMAKER_STATISTICS = {
    "version": 0.0, "dataset": {"item_count": 400},
    "features": [
        {"name": "review_words", "inferred_type": "Integral", "numerical_statistics": numerical(LENGTHS)},
        {"name": "probability", "inferred_type": "Fractional", "numerical_statistics": numerical(PROBABILITIES)},
        {"name": "label", "inferred_type": "String", "string_statistics": {
            "common": {"num_present": 400, "num_missing": 0}, "distinct_count": 2.0,
            "distribution": {"categorical": {"buckets": [{"value": "positive", "count": 208},
                                                         {"value": "negative", "count": 192}]}}}}]}
SAGEMAKER_CONSTRAINTS = {
    "version": 0.0,
    "features": [
        {"name": "review_words", "inferred_type": "Integral", "completeness": 1.0,
         "num_constraints": {"is_non_negative": True}, "monitoringConfigOverrides": {}},
        {"name": "probability", "inferred_type": "Fractional", "completeness": 1.0,
         "num_constraints": {"is_non_negative": True}, "monitoringConfigOverrides": {}},
        {"name": "label", "inferred_type": "String", "completeness": 1.0,
         "string_constraints": {"domains": ["negative", "positive"]}, "monitoringConfigOverrides": {}}],
    "monitoring_config": {"evaluate_constraints": "Enabled", "emit_metrics": "Enabled",
                          "datatype_check_threshold": 1.0, "domain_content_threshold": 1.0,
                          "distribution_constraints": {"perform_comparison": "Enabled", "comparison_threshold": 0.1,
                                                       "comparison_method": "Robust",
                                                       "categorical_comparison_threshold": 0.1,
                                                       "categorical_drift_method": "LInfinity"}}}


def write_sagemaker_baseline(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "statistics.json").write_text(json.dumps(SAGEMAKER_STATISTICS))
    (folder / "constraints.json").write_text(json.dumps(SAGEMAKER_CONSTRAINTS))
    return folder


def monitor(home: Path, *args: str) -> tuple[int, dict, str]:
    done = cli_in_home(home, "monitor", "--model", str(bundled_model_dir()), "--json", *args)
    assert done.exit_code in (0, 3), done.output
    return done.exit_code, json.loads(done.stdout.splitlines()[-1]), done.stdout


# -- the files written ------------------------------------------------------------------------------

def test_the_checker_knows_the_schema() -> None:
    conforms_statistics(SAGEMAKER_STATISTICS)
    conforms(SAGEMAKER_CONSTRAINTS, CONSTRAINTS)
    conforms({"violations": []}, VIOLATIONS)
    broken = json.loads(json.dumps(SAGEMAKER_STATISTICS))
    broken["features"][0]["numerical_statistics"]["distribution"]["kll"]["sketch"]["data"] = [1, 2]
    with pytest.raises(AssertionError, match="sketch.data\\[0\\]: not an array"):
        conforms(broken, STATISTICS)
    with pytest.raises(AssertionError, match="'Decimal' is not one of"):
        conforms({**SAGEMAKER_CONSTRAINTS, "features": [{"name": "x", "inferred_type": "Decimal"}]}, CONSTRAINTS)
    with pytest.raises(AssertionError, match="no 'dataset'"):
        conforms({"version": 0.0, "features": []}, STATISTICS)


def test_the_baseline_is_model_monitors_files(baseline: Baseline, store: LocalStore) -> None:
    """What a DataQuality baselining job would write for the held-out reviews and the model's answers."""
    prefix = baseline_prefix(baseline.bands.model_version)
    store_baseline(store, prefix, baseline)
    statistics = json.loads(store.read_bytes(prefix + "statistics.json"))
    constraints = json.loads(store.read_bytes(prefix + "constraints.json"))
    conforms_statistics(statistics)
    conforms(constraints, CONSTRAINTS)
    assert statistics["version"] == constraints["version"] == 0.0 and statistics["dataset"]["item_count"] == 400
    features = {f["name"]: f for f in statistics["features"]}
    assert {name: f["inferred_type"] for name, f in features.items()} == {
        "review_words": "Integral", "probability": "Fractional", "label": "String"}
    words = features["review_words"]["numerical_statistics"]
    assert words["common"] == {"num_present": 400, "num_missing": 0}
    assert [len(level) for level in words["distribution"]["kll"]["sketch"]["data"]] == [400]  # every value, exact
    assert sum(b["count"] for b in words["distribution"]["kll"]["buckets"]) == 400
    assert len(words["distribution"]["kll"]["buckets"]) == 10
    assert words["mean"] == pytest.approx(np.mean(words["distribution"]["kll"]["sketch"]["data"][0]))
    labels = features["label"]["string_statistics"]
    assert labels["distinct_count"] == 2 and sum(b["count"] for b in labels["distribution"]["categorical"]["buckets"]) \
        == 400
    assert {f["name"]: f.get("string_constraints") for f in constraints["features"]}["label"] == {
        "domains": ["negative", "positive"]}
    assert all(f["completeness"] == 1.0 for f in constraints["features"])
    assert constraints["monitoring_config"] == SAGEMAKER_CONSTRAINTS["monitoring_config"]  # the analyzer's defaults


def test_a_run_writes_what_a_monitoring_execution_writes(model: SentimentModel, baseline: Baseline,
                                                         store: LocalStore, tmp_path: Path) -> None:
    traffic(model, store, made_up(np.random.default_rng(7), 60), feedback=False)
    run_monitor(store, "local-sentiment", model, baseline, tmp_path / "quiet")
    statistics = json.loads((tmp_path / "quiet" / "statistics.json").read_text())
    conforms_statistics(statistics)
    assert statistics["dataset"]["item_count"] == 60
    assert json.loads((tmp_path / "quiet" / "constraint_violations.json").read_text()) == {"violations": []}


# -- SageMaker's baseline read and used -------------------------------------------------------------

def test_a_sagemaker_baseline_decides_drift(model: SentimentModel, tmp_path: Path) -> None:
    folder = write_sagemaker_baseline(tmp_path / "sagemaker-baseline")
    quiet, drifted = LocalStore(tmp_path / "quiet" / "store"), LocalStore(tmp_path / "drifted" / "store")
    traffic(model, quiet, made_up(np.random.default_rng(7), 60), feedback=False)
    traffic(model, drifted, made_up(np.random.default_rng(8), 10), feedback=False)
    put_capture(drifted, [invocation(model, review.encode(), "text/plain", inference_id=f"f{i}")
                          for i, review in enumerate(FOREIGN * 8)])

    code, result, _ = monitor(tmp_path / "quiet", "--baseline", str(folder), "--fail-on-violation")
    assert code == 0 and result["checks"] == [] and result["constraint_violations"] == []

    code, result, out = monitor(tmp_path / "drifted", "--baseline", f"{folder}/", "--fail-on-violation",
                                "--output", str(tmp_path / "report"))
    assert code == 3 and result["violations"] == []  # no bands in SageMaker's files: its checks decide
    drift = {(v["feature_name"], v["constraint_check_type"]) for v in result["constraint_violations"]}
    assert ("review_words", "baseline_drift_check") in drift
    assert "violation: review_words baseline_drift_check: Baseline drift distance:" in out
    written = json.loads((tmp_path / "report" / "constraint_violations.json").read_text())
    conforms(written, VIOLATIONS)
    assert written["violations"] == result["constraint_violations"]
    assert "| review_words | baseline_drift_check |" in (tmp_path / "report" / "report.md").read_text()


def test_a_baseline_under_an_s3_prefix(model: SentimentModel, monkeypatch: pytest.MonkeyPatch,
                                       tmp_path: Path) -> None:
    """Where a SageMaker baselining job leaves its files: ``--baseline s3://bucket/prefix/``."""
    store = LocalStore(tmp_path / "home" / "store")
    put_capture(store, [invocation(model, review.encode(), "text/plain") for review in FOREIGN * 5])
    with recording_aws(monkeypatch, tmp_path):
        for name, document in (("statistics.json", SAGEMAKER_STATISTICS), ("constraints.json", SAGEMAKER_CONSTRAINTS)):
            put_s3(f"s3://{BUCKET}/monitoring/baseline/{name}", json.dumps(document).encode())
        code, result, _ = monitor(tmp_path / "home", "--baseline", f"s3://{BUCKET}/monitoring/baseline/")
        missing = cli_in_home(tmp_path / "home", "monitor", "--baseline", f"s3://{BUCKET}/elsewhere/")
    assert code == 0 and ("review_words", "baseline_drift_check") in {
        (v["feature_name"], v["constraint_check_type"]) for v in result["constraint_violations"]}
    assert missing.exit_code == 1 and "statistics.json or constraints.json" in missing.stderr


# -- the checks ---------------------------------------------------------------------------------------

def test_answers_without_a_probability_leave_it_incomplete(model: SentimentModel, baseline: Baseline,
                                                           store: LocalStore, tmp_path: Path) -> None:
    """text/plain answers (a bare 1.0 or 0.0) carry no probability: Data Capture holds the label only."""
    reviews = made_up(np.random.default_rng(9), 40).texts
    put_capture(store, [invocation(model, r.encode(), "text/plain", "text/plain") for r in reviews])
    result = run_monitor(store, "local-sentiment", model, baseline, tmp_path / "r")
    assert [(v.feature_name, v.constraint_check_type) for v in result.model_monitor] == [
        ("probability", "completeness_check")]
    assert "Observed: 0.0%" in result.model_monitor[0].description


def test_columns_types_and_domains_are_checked() -> None:
    """The analyzer's other checks, on columns a record preprocessor might emit differently."""
    statistics = read_statistics(SAGEMAKER_STATISTICS)
    lengths = [length + 0.5 if i % 10 == 0 else length for i, length in enumerate(LENGTHS)]  # a few fractions
    columns = {"review_words": lengths, "label": ["positive", "negative"] * 24 + ["neutral"] * 2,
               "language": ["de"] * 50}
    found = {(v.feature_name, v.constraint_check_type) for v in
             check_constraints(SAGEMAKER_CONSTRAINTS, statistics, columns)}
    assert found == {("probability", "missing_column_check"), ("language", "extra_column_check"),
                     ("review_words", "data_type_check"), ("label", "categorical_values_check")}
    disabled = {**SAGEMAKER_CONSTRAINTS, "monitoring_config": {"evaluate_constraints": "Disabled"}}
    assert check_constraints(disabled, statistics, columns) == []


def test_robust_comparison_allows_for_small_samples() -> None:
    """The same gap is a drift on many values and noise on a few; ``Simple`` ignores the size."""
    statistics = read_statistics(SAGEMAKER_STATISTICS)
    few = {"review_words": [int(v) for v in np.linspace(45, 131, 12)]}
    only_words = {**SAGEMAKER_CONSTRAINTS, "features": SAGEMAKER_CONSTRAINTS["features"][:1]}
    assert check_constraints(only_words, statistics, few) == []
    simple = json.loads(json.dumps(only_words))
    simple["features"][0]["monitoringConfigOverrides"] = {"distribution_constraints": {"comparison_method": "Simple"}}
    [violation] = check_constraints(simple, statistics, few)
    assert violation.constraint_check_type == "baseline_drift_check"
    many = {"review_words": few["review_words"] * 100}
    [violation] = check_constraints(only_words, statistics, many)
    assert violation.constraint_check_type == "baseline_drift_check"


def test_a_string_feature_as_the_sdk_tests_shape_it() -> None:
    """A feature of SageMaker's own examples: one value seen, older distribution keys, no thresholds for
    categories (the numerical one then holds for them)."""
    statistics = {"version": 0.0, "dataset": {"item_count": 5}, "features": [
        {"name": "message", "inferred_type": "String", "string_statistics": {
            "common": {"num_present": 5, "num_missing": 0}, "distinct_count": 1.0,
            "distribution": {"categorical": {"buckets": [{"value": "ok", "count": 5}]}}}}]}
    constraints = {"version": 0.0, "features": [{"name": "message", "inferred_type": "String", "completeness": 1.0,
                                                 "string_constraints": {"domains": ["ok"]}}],
                   "monitoring_config": {"evaluate_constraints": "Enabled", "emit_metrics": "Enabled",
                                         "distribution_constraints": {"enable_comparisons": True,
                                                                      "comparison_threshold": 1.0}}}
    config = feature_config(constraints, constraints["features"][0])
    assert config["distribution_constraints"]["categorical_comparison_threshold"] == 1.0
    assert config["datatype_check_threshold"] == 1.0 and config["distribution_constraints"]["perform_comparison"] \
        == "Enabled"
    found = check_constraints(constraints, read_statistics(statistics), {"message": ["ok", "ok", None, "late"]})
    assert [(v.feature_name, v.constraint_check_type) for v in found] == [("message", "completeness_check"),
                                                                            ("message", "categorical_values_check")]


# -- the sketch ---------------------------------------------------------------------------------------

def test_the_sketch_holds_every_value_up_to_k() -> None:
    values = np.random.default_rng(0).integers(0, 500, kll.K)
    [level] = kll.sketch_data(values)
    assert level == sorted(values.astype(float).tolist())


def test_a_compacted_sketch_keeps_the_count_and_the_quantiles() -> None:
    values = np.random.default_rng(1).lognormal(5, 1, 100_000)
    data = kll.sketch_data(values)
    sample = kll.sample(data)
    assert sample.count == len(values) and sum(len(level) for level in data) < 3 * kll.K
    points = np.quantile(values, np.linspace(0.01, 0.99, 99))
    exact = np.searchsorted(np.sort(values), points, side="right") / len(values)
    assert np.max(np.abs(sample.cdf(points) - exact)) < 0.01


def test_a_damaged_baseline_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    folder = write_sagemaker_baseline(tmp_path / "baseline")
    (folder / "constraints.json").write_text('{"version": 0.0, "features": [{"name": "label"}]}')
    done = cli_in_home(tmp_path / "home", "monitor", "--baseline", str(folder))
    assert done.exit_code == 1 and "is not Model Monitor's statistics.json and constraints.json" in done.stderr
    (folder / "statistics.json").write_text("{")
    assert "is not Model Monitor's" in cli_in_home(tmp_path / "home", "monitor", "--baseline", str(folder)).stderr
