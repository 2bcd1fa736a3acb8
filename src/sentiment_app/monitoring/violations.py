"""Model Monitor's checks of a dataset against a baseline's ``constraints.json`` and
``statistics.json``, as its pre-built analyzer makes them, and ``constraint_violations.json``.

- ``missing_column_check``/``extra_column_check``: a constrained feature the data lacks, a feature
  of the data no constraint names;
- ``data_type_check``: the share of present values of the constrained type is below
  ``datatype_check_threshold`` (an Integral value is also Fractional; any value is a String);
- ``completeness_check``: the share of present values is below the feature's ``completeness``;
- ``categorical_values_check``: the share of a string feature's values inside its ``domains`` is
  below ``domain_content_threshold``;
- ``baseline_drift_check``: the L-infinity distance between the baseline's and the data's
  distributions (the largest gap between the cumulative distributions of a number, between the
  shares of a string's values) exceeds the comparison threshold. ``Robust`` subtracts the
  two-sample Kolmogorov–Smirnov allowance ``1.8·√((n+m)/(n·m))`` first, so small samples do not
  raise false alarms; ``Simple`` does not.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from sentiment_app.errors import SentimentAppError
from sentiment_app.monitoring.constraints_file import feature_config
from sentiment_app.monitoring.features import Column
from sentiment_app.monitoring.statistics_file import (FRACTIONAL, INTEGRAL, STRING, FeatureStatistics, describe,
                                                      read_feature)

ENABLED = "Enabled"
KS_ALLOWANCE = 1.8  # the analyzer's c(alpha) of the two-sample Kolmogorov-Smirnov test
DATA_TYPE, COMPLETENESS, DRIFT = "data_type_check", "completeness_check", "baseline_drift_check"
MISSING_COLUMN, EXTRA_COLUMN, CATEGORICAL = "missing_column_check", "extra_column_check", "categorical_values_check"


@dataclass(frozen=True)
class Violation:
    feature_name: str
    constraint_check_type: str
    description: str


def violations_json(violations: list[Violation]) -> bytes:
    """``constraint_violations.json``."""
    return json.dumps({"violations": [asdict(v) for v in violations]}, ensure_ascii=False, indent=2).encode("utf-8")


def _of_type(kind: str, value: Any) -> bool:
    if kind == INTEGRAL:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == FRACTIONAL:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return True


def distance(baseline: FeatureStatistics, data: FeatureStatistics) -> tuple[float, float, float] | None:
    """The L-infinity distance of the two distributions and their sizes (None without both)."""
    if baseline.sample is not None and data.sample is not None:
        points = np.union1d(baseline.sample.values, data.sample.values)
        gap = float(np.max(np.abs(baseline.sample.cdf(points) - data.sample.cdf(points))))
        return gap, baseline.sample.count, data.sample.count
    if baseline.categories and data.categories:
        n, m = sum(baseline.categories.values()), sum(data.categories.values())
        gap = max(abs(baseline.categories.get(v, 0.0) / n - data.categories.get(v, 0.0) / m)
                  for v in {*baseline.categories, *data.categories})
        return gap, n, m
    return None


def _drift(baseline: FeatureStatistics, data: FeatureStatistics, config: Mapping[str, Any]) -> Violation | None:
    found = distance(baseline, data)
    if found is None:
        return None
    gap, n, m = found
    categorical = baseline.sample is None
    if categorical and config["categorical_drift_method"] != "LInfinity":
        raise SentimentAppError(f"categorical_drift_method {config['categorical_drift_method']!r} is not supported; "
                                "the monitor compares categories with LInfinity")
    if config["comparison_method"] == "Robust":
        gap = max(0.0, gap - KS_ALLOWANCE * math.sqrt((n + m) / (n * m)))
    threshold = float(config["categorical_comparison_threshold" if categorical else "comparison_threshold"])
    if gap <= threshold:
        return None
    return Violation(data.name, DRIFT, f"Baseline drift distance: {gap:.4g} exceeds threshold: {threshold:.4g}")


def _feature_checks(constraint: Mapping[str, Any], config: Mapping[str, Any], baseline: FeatureStatistics | None,
                    column: Column) -> list[Violation]:
    name, kind = str(constraint["name"]), str(constraint["inferred_type"])
    present = [v for v in column if v is not None]
    found = []
    if kind in (INTEGRAL, FRACTIONAL, STRING) and present:
        share = sum(_of_type(kind, v) for v in present) / len(present)
        if share < float(config["datatype_check_threshold"]):
            found.append(Violation(name, DATA_TYPE, f"Data type match requirement is not met. Expected data type: "
                                   f"{kind}, Expected match: {float(config['datatype_check_threshold']):.1%}. "
                                   f"Observed: Only {share:.1%} of data is {kind}."))
    completeness = len(present) / len(column) if column else 1.0
    if "completeness" in constraint and completeness < float(constraint["completeness"]):
        found.append(Violation(name, COMPLETENESS, f"Data completeness requirement is not met. Expected: "
                               f"{float(constraint['completeness']):.1%} complete. Observed: {completeness:.1%}."))
    domains = constraint.get("string_constraints", {}).get("domains")
    if domains is not None and present:
        share = sum(str(v) in set(domains) for v in present) / len(present)
        if share < float(config["domain_content_threshold"]):
            found.append(Violation(name, CATEGORICAL, f"Data domain requirement is not met. Expected: "
                                   f"{float(config['domain_content_threshold']):.1%} of the values in the baseline's "
                                   f"domain. Observed: {share:.1%}."))
    distribution = config["distribution_constraints"]
    if baseline is not None and present and distribution["perform_comparison"] == ENABLED:
        drift = _drift(baseline, read_feature(describe(name, column)), distribution)
        found += [drift] if drift else []
    return found


def check_constraints(constraints: Mapping[str, Any], statistics: Mapping[str, FeatureStatistics],
                      columns: Mapping[str, Column]) -> list[Violation]:
    """Every violation of the data's ``columns`` against a baseline's constraints and statistics; none
    when the constraints are not evaluated or the data has no rows."""
    if constraints.get("monitoring_config", {}).get("evaluate_constraints", ENABLED) != ENABLED:
        return []
    if not any(columns.values()):
        return []
    named = {str(feature["name"]): feature for feature in constraints["features"]}
    found = [Violation(name, MISSING_COLUMN, f"The data has no column {name!r}, which the baseline constrains.")
             for name in named if name not in columns]
    found += [Violation(name, EXTRA_COLUMN, f"The data has a column {name!r}, which no baseline constraint names.")
              for name in columns if name not in named]
    for name, feature in named.items():
        if name in columns:
            found += _feature_checks(feature, feature_config(constraints, feature), statistics.get(name), columns[name])
    return found
