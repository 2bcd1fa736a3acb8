"""One monitoring run: an endpoint's captured traffic (and the feedback on it) against a baseline,
with a report. Only the model's own answers count: records whose answer names another model
version (another variant, a shadow, an earlier model) are left out and counted.

The run writes what a Model Monitor execution writes, ``statistics.json`` of the traffic and
``constraint_violations.json`` (Model Monitor's checks, and the bands the traffic breaks as drifts
from the baseline), next to the report."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from sentiment_app.fileio import atomic_write_bytes
from sentiment_app.inference.model import SentimentModel
from sentiment_app.monitoring.baseline import STATISTICS_FILE, Baseline
from sentiment_app.monitoring.drift import VIOLATION, Check, check, observe
from sentiment_app.monitoring.features import PROBABILITY, REVIEW_WORDS, captured_columns
from sentiment_app.monitoring.feedback import read_feedback
from sentiment_app.monitoring.report import write_monitor_report
from sentiment_app.monitoring.statistics import CONFIDENCE_EDGES, LENGTH_EDGES, histogram
from sentiment_app.monitoring.statistics_file import FeatureStatistics, statistics_json
from sentiment_app.monitoring.traffic import read_traffic
from sentiment_app.monitoring.violations import Violation, check_constraints, violations_json
from sentiment_app.store import ArtifactStore

VIOLATIONS_FILE = "constraint_violations.json"


@dataclass(frozen=True)
class MonitorResult:
    endpoint: str
    model: str
    model_version: str
    records: int  # captured invocations of this model
    reviews: int
    other_versions: int  # captured invocations answered by another model version
    unreadable: int  # capture lines and feedback files that could not be read
    checks: list[Check]  # the baseline's bands
    model_monitor: list[Violation]  # Model Monitor's checks that failed
    report: Path

    @property
    def violations(self) -> list[Check]:
        return [c for c in self.checks if c.status == VIOLATION]

    @property
    def constraint_violations(self) -> list[Violation]:
        """What ``constraint_violations.json`` lists: Model Monitor's checks, then the bands broken."""
        return listed(self.model_monitor, self.checks)

    def to_json(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "model": self.model, "model_version": self.model_version,
                "records": self.records, "reviews": self.reviews, "other_versions": self.other_versions,
                "unreadable": self.unreadable, "checks": [c.to_json() for c in self.checks],
                "violations": [c.constraint.name for c in self.violations],
                "constraint_violations": [asdict(v) for v in self.constraint_violations],
                "report": str(self.report)}


def listed(model_monitor: list[Violation], checks: list[Check]) -> list[Violation]:
    return model_monitor + [c.to_violation() for c in checks if c.status == VIOLATION]


def shares(feature: FeatureStatistics | None, edges: np.ndarray, confidence: bool = False) -> list[float]:
    """A baseline feature's shares per bin (of the confidence ``max(p, 1 - p)`` for a probability);
    zero where the baseline has no such feature or no sketch of it."""
    if feature is None or feature.sample is None:
        return [0.0] * (len(edges) - 1)
    values = feature.sample.values
    return histogram(np.maximum(values, 1 - values) if confidence else values, edges, feature.sample.weights)


def run_monitor(store: ArtifactStore, endpoint: str, model: SentimentModel, baseline: Baseline, out_dir: Path,
                since: datetime | None = None) -> MonitorResult:
    """Check the traffic captured since ``since`` (all of it by default) and write the report."""
    traffic = read_traffic(store, endpoint, since)
    mine = [r for r in traffic.records if r.model_version in (None, model.version)]
    feedback = read_feedback(store, endpoint)
    bands = baseline.bands
    observations = observe(mine, feedback.entries, bands.vocabulary if bands else frozenset())
    checks = check(bands, observations)
    columns = captured_columns(mine)
    features = baseline.features
    model_monitor = check_constraints(baseline.constraints, features, columns)
    violations = listed(model_monitor, checks)
    reviews = len(observations.lengths)
    period = f"{mine[0].time:%Y-%m-%d %H:%M} – {mine[-1].time:%Y-%m-%d %H:%M} UTC" if mine else "-"
    summary = [("endpoint", endpoint), ("model", f"{model.name} {model.version}"),
               ("captured invocations", f"{len(mine):,}"), ("reviews", f"{reviews:,}"),
               ("answered by other model versions", f"{len(traffic) - len(mine):,}"),
               ("with feedback", f"{len(observations.agreement):,}"), ("period", period),
               ("violations", str(len(violations)))]
    baseline_histograms = {"review_words": shares(features.get(REVIEW_WORDS), LENGTH_EDGES),
                           "confidence": shares(features.get(PROBABILITY), CONFIDENCE_EDGES, confidence=True)}
    traffic_histograms = {"review_words": histogram(observations.lengths, LENGTH_EDGES),
                          "confidence": histogram(observations.confidence, CONFIDENCE_EDGES)}
    report = write_monitor_report(out_dir, f"Drift report: {endpoint}", summary, checks, violations, baseline_histograms,
                                  traffic_histograms)
    atomic_write_bytes(out_dir / STATISTICS_FILE, json.dumps(statistics_json(columns), indent=2).encode("utf-8"))
    atomic_write_bytes(out_dir / VIOLATIONS_FILE, violations_json(violations))
    return MonitorResult(endpoint, model.name, model.version, len(mine), reviews, len(traffic) - len(mine),
                         traffic.unreadable + feedback.unreadable, checks, model_monitor, report)
