"""How commands print: tables, durations, metrics and JSON."""

from __future__ import annotations

import json
from typing import Any

import click

METRIC_KEYS = ("accuracy", "precision", "recall", "f1", "roc_auc", "confusion_matrix")


def duration(seconds: float | None) -> str:
    """``3725`` → ``1h02m``: uptime at a glance."""
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def table(rows: list[list[str]]) -> str:
    """Rows as left-aligned columns; the first row is the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)


def echo_json(value: Any, as_json: bool) -> None:
    """One JSON line, when asked for (after the human-readable lines)."""
    if as_json:
        click.echo(json.dumps(value, default=str))


def echo_metrics(metrics: dict[str, Any]) -> None:
    """The test metrics, one per line (n/a where a metric is undefined, e.g. ROC AUC of one class)."""
    for key in METRIC_KEYS[:5]:
        click.echo(f"{key:>10}: {metrics[key]:.4f}" if metrics[key] is not None else f"{key:>10}: n/a")
    click.echo(f"confusion matrix [[tn, fp], [fn, tp]]: {metrics['confusion_matrix']}")


def echo_behaviour(behaviour: dict[str, Any], examples: int = 0) -> None:
    """Pass rates of the behavioural checks per capability, with up to ``examples`` failures each."""
    click.echo(f"behavioural checks: {behaviour['pass_rate']:.1%} of {behaviour['cases']} cases")
    for name, result in behaviour["capabilities"].items():
        click.echo(f"  {name:<11} {result['pass_rate']:6.1%} of {result['cases']}")
        for failure in result["failures"][:examples]:
            click.echo(f"      {json.dumps(failure)}")
