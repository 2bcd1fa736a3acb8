"""Training metrics: the log line every family prints, read by the job's own metric definitions."""

from __future__ import annotations

import re

import pytest

from sentiment_app.models.registry import MODELS
from sentiment_app.models.metric_log import KEYS, TRAIN_LOSS, VALIDATION_ACCURACY, metric_definitions, metric_line


def test_each_definition_reads_its_value_back_from_the_line() -> None:
    line = metric_line("bilstm epoch 3", train_loss=0.4213, val_accuracy=0.88)
    found = {d["Name"]: float(re.search(d["Regex"], line).group(1))
             for d in metric_definitions((TRAIN_LOSS, VALIDATION_ACCURACY))}
    assert found == {TRAIN_LOSS: 0.4213, VALIDATION_ACCURACY: 0.88}


def test_a_metric_the_job_does_not_define_is_refused() -> None:
    with pytest.raises(ValueError, match="val_loss"):
        metric_line("epoch 1", val_loss=0.3)


def test_every_family_reports_only_defined_metrics() -> None:
    assert all(set(spec.metrics) <= set(KEYS) and VALIDATION_ACCURACY in spec.metrics for spec in MODELS.values())
