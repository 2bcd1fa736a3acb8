"""One monitoring run: an endpoint's captured traffic (and the feedback on it) against a model's
baseline, with a report. Only the model's own answers count: records whose answer names another
model version (another variant, a shadow, an earlier model) are left out and counted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sentiment_app.inference.model import SentimentModel
from sentiment_app.monitoring.baseline import Baseline
from sentiment_app.monitoring.drift import VIOLATION, Check, check, observe
from sentiment_app.monitoring.feedback import read_feedback
from sentiment_app.monitoring.report import write_monitor_report
from sentiment_app.monitoring.statistics import CONFIDENCE_EDGES, LENGTH_EDGES, histogram
from sentiment_app.monitoring.traffic import read_traffic
from sentiment_app.store import ArtifactStore


@dataclass(frozen=True)
class MonitorResult:
    endpoint: str
    model: str
    model_version: str
    records: int  # captured invocations of this model
    reviews: int
    other_versions: int  # captured invocations answered by another model version
    unreadable: int  # capture lines and feedback files that could not be read
    checks: list[Check]
    report: Path

    @property
    def violations(self) -> list[Check]:
        return [c for c in self.checks if c.status == VIOLATION]

    def to_json(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "model": self.model, "model_version": self.model_version,
                "records": self.records, "reviews": self.reviews, "other_versions": self.other_versions,
                "unreadable": self.unreadable, "checks": [c.to_json() for c in self.checks],
                "violations": [c.constraint.name for c in self.violations], "report": str(self.report)}


def run_monitor(store: ArtifactStore, endpoint: str, model: SentimentModel, baseline: Baseline, out_dir: Path,
                since: datetime | None = None) -> MonitorResult:
    """Check the traffic captured since ``since`` (all of it by default) and write the report."""
    traffic = read_traffic(store, endpoint, since)
    mine = [r for r in traffic.records if r.model_version in (None, model.version)]
    feedback = read_feedback(store, endpoint)
    observations = observe(mine, feedback.entries, baseline)
    checks = check(baseline, observations)
    reviews = len(observations.lengths)
    period = f"{mine[0].time:%Y-%m-%d %H:%M} – {mine[-1].time:%Y-%m-%d %H:%M} UTC" if mine else "-"
    summary = [("endpoint", endpoint), ("model", f"{model.name} {model.version}"),
               ("captured invocations", f"{len(mine):,}"), ("reviews", f"{reviews:,}"),
               ("answered by other model versions", f"{len(traffic) - len(mine):,}"),
               ("with feedback", f"{len(observations.agreement):,}"), ("period", period),
               ("violations", str(sum(c.status == VIOLATION for c in checks)))]
    traffic_histograms = {"review_words": histogram(observations.lengths, LENGTH_EDGES),
                          "confidence": histogram(observations.confidence, CONFIDENCE_EDGES)}
    report = write_monitor_report(out_dir, f"Drift report: {endpoint}", summary, checks, baseline.histograms,
                                  traffic_histograms)
    return MonitorResult(endpoint, model.name, model.version, len(mine), reviews, len(traffic) - len(mine),
                         traffic.unreadable + feedback.unreadable, checks, report)
