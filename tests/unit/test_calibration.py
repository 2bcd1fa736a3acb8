"""Expected calibration error against numbers worked out by hand, and the report's optional sections."""

from __future__ import annotations

import numpy as np
import pytest

from sentiment_app.evaluation.behaviour import CAPABILITIES
from sentiment_app.evaluation.calibration import reliability
from sentiment_app.evaluation.metrics import compute_metrics
from sentiment_app.evaluation.report import write_report
from sentiment_app.evaluation.short import ShortResult

#            confidence  predicted  right   bin
# 0.95  y=1     0.95        1        yes   (0.9, 1.0]
# 0.85  y=0     0.85        1        no    (0.8, 0.9]
# 0.25  y=0     0.75        0        yes   (0.7, 0.8]
# 0.65  y=1     0.65        1        yes   (0.6, 0.7]
# 0.45  y=1     0.55        0        no    (0.5, 0.6]
# 0.05  y=0     0.95        0        yes   (0.9, 1.0]
PROBS = [0.95, 0.85, 0.25, 0.65, 0.45, 0.05]
LABELS = [1, 0, 0, 1, 1, 0]


def test_ece_and_bins_match_hand_computation() -> None:
    curve = reliability(LABELS, PROBS)
    assert curve.counts.tolist() == [0, 0, 0, 0, 0, 1, 1, 1, 1, 2]
    assert curve.edges == pytest.approx(np.linspace(0, 1, 11))
    assert curve.accuracy[5:].tolist() == [0, 1, 1, 0, 1] and np.isnan(curve.accuracy[:5]).all()
    assert curve.confidence[5:] == pytest.approx([0.55, 0.65, 0.75, 0.85, 0.95])
    # (|0 - .55| + |1 - .65| + |1 - .75| + |0 - .85| + 2 * |1 - .95|) / 6 = 2.1 / 6
    assert curve.ece == pytest.approx(0.35)


def test_confidence_one_half_falls_in_the_bin_ending_at_one_half() -> None:
    curve = reliability(np.array([1, 0]), np.array([0.5, 0.5]))  # both predicted positive, one right
    assert curve.counts[4] == 2 and curve.accuracy[4] == 0.5 and curve.ece == pytest.approx(0.0)


def test_ece_is_the_bin_weighted_gap_and_zero_when_calibrated() -> None:
    rng = np.random.default_rng(0)
    p = rng.random(1000)
    y = (rng.random(1000) < 0.3).astype(int)
    curve = reliability(y, p)
    filled = curve.counts > 0
    gaps = np.abs(curve.accuracy[filled] - curve.confidence[filled])
    assert curve.ece == pytest.approx(float((curve.counts[filled] / 1000 * gaps).sum())) and curve.ece > 0.1
    assert reliability([1, 0, 1], [1.0, 0.0, 1.0]).ece == 0.0
    assert reliability([1, 1, 0, 0], [0.05, 0.1, 0.95, 0.9]).ece == pytest.approx(0.925)  # sure and always wrong


def test_mismatched_or_empty_inputs_are_refused() -> None:
    for labels, probabilities in (([1, 0], [0.5]), ([], [])):
        with pytest.raises(ValueError):
            reliability(labels, probabilities)


def test_report_sections_reach_markdown_and_html(tmp_path) -> None:
    short = ShortResult({"imdb": 0.8, "yelp": 0.75, "amazon": 0.7, "mean": 0.75},
                        np.array([1, 0, 1, 0]), np.array([0.9, 0.2, 0.4, 0.3]))
    behaviour = {"cases": 20, "pass_rate": 0.85,
                 "capabilities": {name: {"cases": 4, "pass_rate": 0.25 * i, "failures": []}
                                  for i, name in enumerate(CAPABILITIES)}}
    page = write_report(tmp_path, compute_metrics(LABELS, PROBS), [], LABELS, PROBS, "sections",
                        calibration=True, short=short, behaviour=behaviour)
    markdown, html = (tmp_path / "report.md").read_text(), page.read_text()
    assert (tmp_path / "reliability.png").read_bytes()[:4] == b"\x89PNG"
    assert "(reliability.png)" in markdown and 'src="reliability.png"' in html
    short_ece = reliability(short.labels, short.probabilities).ece
    assert "| IMDB test | 6 | 0.3500 |" in markdown and f"| short sentences | 4 | {short_ece:.4f} |" in markdown
    assert "| yelp | 0.7500 |" in markdown and "<td>amazon</td><td>0.7000</td>" in html
    assert "| intensity | 4 | 0.5000 |" in markdown and "| all | 20 | 0.8500 |" in markdown
    assert "<h2>Behavioural tests</h2>" in html and "<td>direction</td><td>4</td><td>1.0000</td>" in html


def test_report_without_sections_is_as_before(tmp_path) -> None:
    write_report(tmp_path, compute_metrics(LABELS, PROBS), [], LABELS, PROBS, "plain")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["confusion.png", "report.html", "report.md", "roc.png"]
    assert "##" not in (tmp_path / "report.md").read_text() and "<h2>" not in (tmp_path / "report.html").read_text()
