"""Metrics checked against numbers worked out by hand; the report's files and plots."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from sentiment_app.evaluation.metrics import compute_metrics
from sentiment_app.evaluation.report import write_report
from sentiment_app.inference.model import SentimentModel
from sentiment_app.artifacts.locate import bundled_model_dir

# Predicted positive at p >= 0.5:   1    1    0    0    1    0    1    1
LABELS = [1, 1, 1, 0, 0, 0, 1, 0]
PROBS = [0.9, 0.8, 0.3, 0.2, 0.6, 0.1, 0.7, 0.55]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_metrics_match_hand_computation():
    m = compute_metrics(LABELS, PROBS)
    # tp = 3 (0, 1, 6), fn = 1 (2), fp = 2 (4, 7), tn = 2 (3, 5)
    assert m["confusion_matrix"] == [[2, 2], [1, 3]]
    assert m["accuracy"] == pytest.approx(5 / 8)
    assert m["precision"] == pytest.approx(3 / 5)
    assert m["recall"] == pytest.approx(3 / 4)
    assert m["f1"] == pytest.approx(2 / 3)  # 2 * 0.6 * 0.75 / 1.35
    # positive/negative pairs ranked correctly: 0.9, 0.8, 0.7 beat all 4 negatives, 0.3 beats 2 -> 14/16
    assert m["roc_auc"] == pytest.approx(14 / 16)
    assert m["count"] == 8
    json.dumps(m)  # plain numbers only


def test_threshold_is_inclusive_and_numpy_inputs_work():
    m = compute_metrics(np.array([1, 0]), np.array([0.5, 0.49], dtype=np.float32))
    assert m["confusion_matrix"] == [[1, 0], [0, 1]]


def test_single_class_has_no_auc():
    m = compute_metrics([1, 1, 1], [0.9, 0.2, 0.7])
    assert m["roc_auc"] is None
    assert m["confusion_matrix"] == [[0, 0], [1, 2]]


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError):
        compute_metrics([1, 0], [0.5])


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_report_writes_markdown_html_and_readable_plots(tmp_path):
    model = SentimentModel.load(bundled_model_dir("lstm-seed"))
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 200)
    probabilities = np.clip(labels * 0.3 + rng.random(200) * 0.7, 0, 1)
    metrics = compute_metrics(labels, probabilities)
    page = write_report(tmp_path / "report", metrics, model.metrics["history"], labels, probabilities, "Test <run>")
    folder = tmp_path / "report"
    assert page == folder / "report.html"
    for name in ("training.png", "roc.png", "confusion.png"):
        data = (folder / name).read_bytes()
        width, height = png_size(data)
        assert width > 300 and height > 300 and len(data) > 10_000
        assert f'src="{name}"' in page.read_text()
        assert f"({name})" in (folder / "report.md").read_text()
    assert "Test &lt;run&gt;" in page.read_text()
    assert f"{metrics['accuracy']:.4f}" in (folder / "report.md").read_text()
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temp files left


def test_report_without_history_has_no_training_plot(tmp_path):
    metrics = compute_metrics(LABELS, PROBS)
    write_report(tmp_path, metrics, [], LABELS, PROBS, "no history")
    assert not (tmp_path / "training.png").exists()
    assert (tmp_path / "roc.png").is_file() and "training.png" not in (tmp_path / "report.md").read_text()
