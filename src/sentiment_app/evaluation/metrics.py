"""Classification metrics of predicted probabilities, computed by scikit-learn (no hand-rolled maths)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn import metrics as skm


def compute_metrics(labels: Sequence[int] | np.ndarray, probabilities: Sequence[float] | np.ndarray,
                    threshold: float = 0.5) -> dict:
    """Accuracy, precision, recall, f1 (positive class 1, predicted when ``p >= threshold``), ROC AUC
    and the confusion matrix ``[[tn, fp], [fn, tp]]``; plain Python numbers so it dumps as JSON.

    ``roc_auc`` is None when the labels hold only one class (it is undefined then).
    """
    y = np.asarray(labels).astype(int)
    p = np.asarray(probabilities, dtype=float)
    if y.shape != p.shape:
        raise ValueError(f"{len(y)} labels but {len(p)} probabilities")
    predicted = (p >= threshold).astype(int)
    return {
        "count": int(len(y)),
        "accuracy": float(skm.accuracy_score(y, predicted)),
        "precision": float(skm.precision_score(y, predicted, zero_division=0)),
        "recall": float(skm.recall_score(y, predicted, zero_division=0)),
        "f1": float(skm.f1_score(y, predicted, zero_division=0)),
        "roc_auc": float(skm.roc_auc_score(y, p)) if len(np.unique(y)) == 2 else None,
        "confusion_matrix": skm.confusion_matrix(y, predicted, labels=[0, 1]).tolist(),
    }
