"""Training metrics in the one line format that a SageMaker training job's ``MetricDefinitions`` read
from its log, and those definitions, made from the same names so the two cannot drift apart."""

from __future__ import annotations

TRAIN_LOSS, VALIDATION_ACCURACY = "train:loss", "validation:accuracy"
KEYS = {TRAIN_LOSS: "train_loss", VALIDATION_ACCURACY: "val_accuracy"}
"""SageMaker's metric name → the key the log line spells it with."""


def metric_line(where: str, **values: float) -> str:
    """``"epoch 3: train_loss: 0.4213, val_accuracy: 0.8800"``: ``where`` says which step, each value
    is written ``key: number`` (keys from :data:`KEYS`), the form the definitions' regexes match."""
    unknown = set(values) - set(KEYS.values())
    if unknown:
        raise ValueError(f"not a metric the job defines: {sorted(unknown)}")
    return f"{where}: " + ", ".join(f"{key}: {value:.6f}" for key, value in values.items())


def metric_definitions(names: tuple[str, ...]) -> list[dict[str, str]]:
    """The job's ``MetricDefinitions`` for the metrics a family reports."""
    return [{"Name": name, "Regex": rf"\b{KEYS[name]}: ([0-9.eE+-]+)"} for name in names]
