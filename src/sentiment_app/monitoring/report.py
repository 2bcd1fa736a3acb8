"""The drift report: ``report.md`` and ``report.html`` with the baseline's and the traffic's review
lengths and confidences side by side, the bands broken, what ``constraint_violations.json`` lists,
and every band."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from sentiment_app.evaluation.report import Table, html_page, markdown_page, save_figure
from sentiment_app.fileio import atomic_write_bytes
from sentiment_app.monitoring.drift import VIOLATION, Check
from sentiment_app.monitoring.statistics import CONFIDENCE_EDGES, LENGTH_EDGES
from sentiment_app.monitoring.violations import Violation


def bin_labels(edges: np.ndarray, integers: bool) -> list[str]:
    """``1``, ``2-3``, ``1024+`` for word counts; ``0.50-0.55`` for confidences."""
    if not integers:
        return [f"{low:.2f}-{high:.2f}" for low, high in zip(edges[:-1], edges[1:])]
    return [f"{int(low)}+" if np.isinf(high) else str(int(low)) if high - low == 1 else f"{int(low)}-{int(high) - 1}"
            for low, high in zip(edges[:-1], edges[1:])]


def plot_shares(path: Path, title: str, xlabel: str, labels: list[str], baseline: list[float],
                traffic: list[float]) -> None:
    """Share of reviews per bin, baseline and traffic as bars side by side."""
    fig = Figure(figsize=(9, 3.8), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(labels))
    ax.bar(x - 0.2, baseline, width=0.4, label="baseline", color="tab:blue")
    ax.bar(x + 0.2, traffic, width=0.4, label="traffic", color="tab:orange")
    ax.set(title=title, xlabel=xlabel, ylabel="share of reviews", xticks=x)
    ax.set_xticklabels(labels, rotation=45, ha="right")
    ax.grid(alpha=0.3, axis="y")
    ax.legend()
    save_figure(fig, path)


def _value(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def check_table(checks: list[Check]) -> Table:
    return Table("Constraints", ("constraint", "what", "baseline", "band", "observed", "values", "status"),
                 [(c.constraint.name, c.constraint.description, _value(c.constraint.baseline), c.constraint.band,
                   _value(c.observed), f"{c.count:,}", c.status) for c in checks])


def violation_table(checks: list[Check]) -> Table:
    rows = [(c.constraint.name, c.constraint.band, _value(c.observed)) for c in checks if c.status == VIOLATION]
    return Table("Violations", ("constraint", "baseline band", "observed"), rows or [("none", "-", "-")])


def constraint_violation_table(violations: list[Violation]) -> Table:
    rows = [(v.feature_name, v.constraint_check_type, v.description) for v in violations]
    return Table("Constraint violations", ("feature", "check", "description"), rows or [("none", "-", "-")])


def write_monitor_report(out_dir: Path, title: str, summary: list[tuple[str, str]], checks: list[Check],
                         violations: list[Violation], baseline: dict[str, list[float]],
                         traffic: dict[str, list[float]]) -> Path:
    """Write the plots, ``report.md`` and ``report.html`` into ``out_dir``; return the HTML page."""
    out_dir.mkdir(parents=True, exist_ok=True)
    plot_shares(out_dir / "review_words.png", "Review length", "words per review",
                bin_labels(LENGTH_EDGES, integers=True), baseline["review_words"], traffic["review_words"])
    plot_shares(out_dir / "confidence.png", "Confidence of the verdicts", "confidence of the predicted class",
                bin_labels(CONFIDENCE_EDGES, integers=False), baseline["confidence"], traffic["confidence"])
    plots = ["review_words.png", "confidence.png"]
    tables = [violation_table(checks), constraint_violation_table(violations), check_table(checks)]
    atomic_write_bytes(out_dir / "report.md", markdown_page(title, summary, plots, tables).encode("utf-8"))
    page = out_dir / "report.html"
    atomic_write_bytes(page, html_page(title, summary, plots, tables).encode("utf-8"))
    return page
