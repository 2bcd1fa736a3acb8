"""Model Monitor's ``constraints.json``: the constraints its analyzer suggests from a baseline's
``statistics.json``, with its defaults for the monitoring config, and that config read back (a
feature's ``monitoringConfigOverrides`` over the file's ``monitoring_config``) from either source."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sentiment_app.monitoring.statistics_file import INTEGRAL, FRACTIONAL, STRING, read_feature

MAX_DOMAIN = 20  # a string feature with at most this many distinct values gets its values as its domain
MONITORING_CONFIG: dict[str, Any] = {
    "evaluate_constraints": "Enabled", "emit_metrics": "Enabled", "datatype_check_threshold": 1.0,
    "domain_content_threshold": 1.0,
    "distribution_constraints": {"perform_comparison": "Enabled", "comparison_threshold": 0.1,
                                 "comparison_method": "Robust", "categorical_comparison_threshold": 0.1,
                                 "categorical_drift_method": "LInfinity"}}


def suggest_constraints(statistics: Mapping[str, Any]) -> dict[str, Any]:
    """The constraints of a baseline: each feature's type and completeness, non-negativity of numbers,
    the domain of strings with few values, and the default monitoring config."""
    features = []
    for entry in statistics["features"]:
        feature = read_feature(entry)
        total = feature.present + feature.missing
        suggested: dict[str, Any] = {"name": feature.name, "inferred_type": feature.inferred_type,
                                     "completeness": feature.present / total if total else 0.0}
        if feature.inferred_type in (INTEGRAL, FRACTIONAL):
            minimum = entry["numerical_statistics"]["min"]
            suggested["num_constraints"] = {"is_non_negative": minimum >= 0}
        if feature.inferred_type == STRING and feature.categories is not None and len(feature.categories) <= MAX_DOMAIN:
            suggested["string_constraints"] = {"domains": sorted(feature.categories)}
        features.append(suggested)
    return {"version": 0.0, "features": features, "monitoring_config": MONITORING_CONFIG}


def feature_config(constraints: Mapping[str, Any], feature: Mapping[str, Any]) -> dict[str, Any]:
    """The monitoring config that holds for one feature: the file's, with the feature's overrides and
    the analyzer's defaults where neither says (the categorical threshold defaults to the numerical)."""
    given = constraints.get("monitoring_config", {})
    overrides = feature.get("monitoringConfigOverrides") or {}
    stated = {**given.get("distribution_constraints", {}), **overrides.get("distribution_constraints", {})}
    distribution = {**MONITORING_CONFIG["distribution_constraints"], **stated}
    if "categorical_comparison_threshold" not in stated:
        distribution["categorical_comparison_threshold"] = distribution["comparison_threshold"]
    return {**MONITORING_CONFIG, **given, **overrides, "distribution_constraints": distribution}
