"""Model Monitor's ``statistics.json``: what its pre-built analyzer writes for a baseline dataset and
for each monitoring run's data, written here for feature columns and read back from either source.

Per feature: ``inferred_type`` (``Integral``, ``Fractional``, ``String``, or ``Unknown`` without a
present value), present and missing counts, and for numbers the mean, sum, standard deviation,
minimum, maximum, ten equal-width buckets and the KLL sketch; for strings the distinct count and
the count of each value.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sentiment_app.monitoring import kll
from sentiment_app.monitoring.features import Column

INTEGRAL, FRACTIONAL, STRING, UNKNOWN = "Integral", "Fractional", "String", "Unknown"
BUCKETS = 10  # the analyzer materializes every distribution in ten buckets


def inferred_type(values: list[Any]) -> str:
    """The type the analyzer would infer from the present values of a column."""
    if not values:
        return UNKNOWN
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return INTEGRAL
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return FRACTIONAL
    return STRING


def _buckets(values: np.ndarray) -> list[dict[str, float]]:
    low, high = float(values.min()), float(values.max())
    counts, edges = np.histogram(values, bins=BUCKETS, range=(low, high))
    return [{"lower_bound": float(a), "upper_bound": float(b), "count": float(n)}
            for a, b, n in zip(edges[:-1], edges[1:], counts)]


def describe(name: str, column: Column) -> dict[str, Any]:
    """One entry of ``features``: the statistics of a column."""
    present = [v for v in column if v is not None]
    kind = inferred_type(present)
    common = {"num_present": len(present), "num_missing": len(column) - len(present)}
    if kind == UNKNOWN:
        return {"name": name, "inferred_type": kind, "string_statistics": {
            "common": common, "distinct_count": 0.0, "distribution": {"categorical": {"buckets": []}}}}
    if kind == STRING:
        counts = Counter(str(v) for v in present)
        return {"name": name, "inferred_type": kind, "string_statistics": {
            "common": common, "distinct_count": float(len(counts)),
            "distribution": {"categorical": {"buckets": [{"value": value, "count": count}
                                                         for value, count in sorted(counts.items())]}}}}
    values = np.array(present, dtype=np.float64)
    return {"name": name, "inferred_type": kind, "numerical_statistics": {
        "common": common, "mean": float(values.mean()), "sum": float(values.sum()), "std_dev": float(values.std()),
        "min": float(values.min()), "max": float(values.max()),
        "distribution": {"kll": {"buckets": _buckets(values),
                                 "sketch": {"parameters": {"c": kll.C, "k": float(kll.K)},
                                            "data": kll.sketch_data(values)}}}}}


def statistics_json(columns: Mapping[str, Column]) -> dict[str, Any]:
    """The whole file for aligned columns (one row per item)."""
    rows = {len(column) for column in columns.values()}
    if len(rows) > 1:
        raise ValueError("columns of different lengths")
    return {"version": 0.0, "dataset": {"item_count": rows.pop() if rows else 0},
            "features": [describe(name, column) for name, column in columns.items()]}


@dataclass(frozen=True)
class FeatureStatistics:
    """What the checks need of one feature: its type, counts, and its distribution (a weighted sample
    of a number, the counts of a string's values) where the file gives one."""

    name: str
    inferred_type: str
    present: int
    missing: int
    sample: kll.Sample | None
    categories: dict[str, float] | None


def read_feature(entry: Mapping[str, Any]) -> FeatureStatistics:
    stats = entry.get("numerical_statistics") or entry.get("string_statistics") or {}
    common = stats.get("common", {})
    sketch = stats.get("distribution", {}).get("kll", {}).get("sketch", {}).get("data")
    buckets = stats.get("distribution", {}).get("categorical", {}).get("buckets")
    return FeatureStatistics(
        str(entry["name"]), str(entry["inferred_type"]), int(common.get("num_present", 0)),
        int(common.get("num_missing", 0)), kll.sample(sketch) if sketch else None,
        {str(b["value"]): float(b["count"]) for b in buckets} if buckets is not None else None)


def read_statistics(document: Mapping[str, Any]) -> dict[str, FeatureStatistics]:
    """The features of a ``statistics.json``, by name."""
    return {feature.name: feature for feature in map(read_feature, document["features"])}
