"""Batch transform on real reviews: the raw and the processed form of the same reviews score alike."""

from __future__ import annotations

import numpy as np
import pytest

from sentiment_app.data.dataset import load_imdb, stratified_sample
from sentiment_app.evaluation.metrics import compute_metrics
from sentiment_app.inference.batch_transform import transform_file
from tests.support import read_json_lines, write_lines


@pytest.mark.slow
def test_real_reviews_raw_and_processed_forms_agree(lstm_model, tmp_path, real_data):
    test = stratified_sample(load_imdb(real_data)["test"], 300, seed=0)
    raw = write_lines(tmp_path / "reviews.txt", [" ".join(text.splitlines()).encode() for text in test.texts])
    rows = np.column_stack([test.labels, lstm_model.encode(test.texts)])
    processed = write_lines(tmp_path / "test.csv", [",".join(map(str, row)).encode() for row in rows.tolist()])
    assert transform_file(lstm_model, raw) == 0 and transform_file(lstm_model, processed) == 0
    from_raw = [o["probability"] for o in read_json_lines(tmp_path / "reviews.txt.out")]
    from_rows = [o["probability"] for o in read_json_lines(tmp_path / "test.csv.out")]
    assert from_raw == from_rows
    assert compute_metrics(test.labels, from_raw)["accuracy"] > 0.6  # the bundled model scores ~0.69
