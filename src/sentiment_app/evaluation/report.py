"""An evaluation report a person can read: ``report.md``, ``report.html`` and PNG plots in one folder.

Plots are drawn with matplotlib's object API on the Agg canvas (no display, no global pyplot
state) and every file is written atomically, so a report folder never holds half a plot. Optional
sections say how the model treats what people type: calibration (a reliability diagram), accuracy
on short sentences and behavioural pass rates.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.metrics import roc_curve

from sentiment_app.evaluation.behaviour import CAPABILITIES
from sentiment_app.evaluation.calibration import Reliability, reliability
from sentiment_app.evaluation.short import SOURCES, ShortResult
from sentiment_app.fileio import atomic_write_bytes
from sentiment_app.wire import LABELS

CLASSES = LABELS


def save_figure(fig: Figure, path: Path) -> None:
    """``fig`` as a PNG at ``path``, written whole or not at all."""
    buffer = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buffer)
    atomic_write_bytes(path, buffer.getvalue())


def plot_history(history: Sequence[dict], path: Path) -> None:
    """Training loss and (when recorded) validation accuracy per epoch, side by side."""
    fig = Figure(figsize=(9, 3.6), layout="constrained")
    loss_ax, acc_ax = fig.subplots(1, 2)
    epochs = [h["epoch"] for h in history]
    loss_ax.plot(epochs, [h["loss"] for h in history], marker="o")
    loss_ax.set(title="Training loss (BCE)", xlabel="epoch", ylabel="mean batch loss")
    validated = [h for h in history if "val_accuracy" in h]
    acc_ax.plot([h["epoch"] for h in validated], [h["val_accuracy"] for h in validated], marker="o", color="tab:green")
    acc_ax.set(title="Validation accuracy", xlabel="epoch", ylabel="accuracy")
    for ax in (loss_ax, acc_ax):
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    save_figure(fig, path)


def plot_roc(labels: np.ndarray, probabilities: np.ndarray, auc: float | None, path: Path) -> None:
    fig = Figure(figsize=(4.8, 4.5), layout="constrained")
    ax = fig.subplots()
    fpr, tpr, _ = roc_curve(labels, probabilities)
    ax.plot(fpr, tpr, label=f"model (AUC {auc:.3f})" if auc is not None else "model")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    ax.set(title="ROC curve", xlabel="false positive rate", ylabel="true positive rate", xlim=(0, 1), ylim=(0, 1.01))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    save_figure(fig, path)


def plot_confusion(matrix: list[list[int]], path: Path) -> None:
    fig = Figure(figsize=(4.6, 4.0), layout="constrained")
    ax = fig.subplots()
    counts = np.asarray(matrix)
    image = ax.imshow(counts, cmap="Blues")
    fig.colorbar(image, ax=ax, shrink=0.8)
    for (row, col), value in np.ndenumerate(counts):
        dark = value > counts.max() / 2
        ax.text(col, row, f"{value:,}", ha="center", va="center", fontsize=13, color="white" if dark else "black")
    ax.set(title="Confusion matrix", xlabel="predicted", ylabel="true", xticks=[0, 1], yticks=[0, 1],
           xticklabels=CLASSES, yticklabels=CLASSES)
    save_figure(fig, path)


def plot_reliability(curves: dict[str, Reliability], path: Path) -> None:
    """Accuracy against mean confidence in each non-empty bin, one line per data set."""
    fig = Figure(figsize=(4.8, 4.5), layout="constrained")
    ax = fig.subplots()
    for name, curve in curves.items():
        filled = curve.counts > 0
        ax.plot(curve.confidence[filled], curve.accuracy[filled], marker="o", label=f"{name} (ECE {curve.ece:.3f})")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    ax.set(title="Reliability diagram", xlabel="confidence of the predicted class", ylabel="accuracy",
           xlim=(0.45, 1.0), ylim=(0, 1.01))
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    save_figure(fig, path)


@dataclass(frozen=True)
class Table:
    """An optional section: a heading over a table, shared by the Markdown and HTML versions."""

    heading: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]


def _calibration_table(curves: dict[str, Reliability]) -> Table:
    return Table("Calibration", ("data", "predictions", "ECE (10 bins)"),
                 [(name, f"{int(curve.counts.sum()):,}", f"{curve.ece:.4f}") for name, curve in curves.items()])


def _short_table(short: ShortResult) -> Table:
    return Table("Short sentences", ("source", "accuracy"),
                 [(name, f"{short.accuracy[name]:.4f}") for name in (*SOURCES, "mean")])


def _behaviour_table(behaviour: dict) -> Table:
    rows = [(name, f"{behaviour['capabilities'][name]['cases']:,}",
             f"{behaviour['capabilities'][name]['pass_rate']:.4f}") for name in CAPABILITIES]
    return Table("Behavioural tests", ("capability", "cases", "pass rate"),
                 [*rows, ("all", f"{behaviour['cases']:,}", f"{behaviour['pass_rate']:.4f}")])


def _summary(metrics: dict) -> list[tuple[str, str]]:
    """The headline numbers as (name, text) rows, shared by the Markdown and HTML versions."""
    names = ("accuracy", "precision", "recall", "f1", "roc_auc")
    rows = [(name, "n/a" if metrics.get(name) is None else f"{metrics[name]:.4f}") for name in names if name in metrics]
    return [("reviews", f"{metrics['count']:,}")] + rows if "count" in metrics else rows


def markdown_page(title: str, summary: list[tuple[str, str]], plots: list[str], tables: Sequence[Table]) -> str:
    """A report in Markdown: the summary rows, the plots (paths relative to the page), then the tables."""
    lines = [f"# {title}", "", "| metric | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in summary]
    lines += [""] + [f"![{Path(plot).stem}]({plot})" for plot in plots]
    for table in tables:
        lines += ["", f"## {table.heading}", "", "| " + " | ".join(table.columns) + " |",
                  "|" + "---|" * len(table.columns)]
        lines += ["| " + " | ".join(row) + " |" for row in table.rows]
    return "\n".join(lines) + "\n"


def _html_table(table: Table) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(column)}</th>" for column in table.columns)
    body = "".join("<tr>" + "".join(f"<td>{esc(cell)}</td>" for cell in row) + "</tr>" for row in table.rows)
    return f"<h2>{esc(table.heading)}</h2><table><tr>{head}</tr>{body}</table>"


def html_page(title: str, summary: list[tuple[str, str]], plots: list[str], tables: Sequence[Table]) -> str:
    """The same report as a standalone HTML page (every value escaped)."""
    esc = html.escape
    rows = "".join(f"<tr><th>{esc(name)}</th><td>{esc(value)}</td></tr>" for name, value in summary)
    images = "".join(f'<p><img src="{esc(plot)}" alt="{esc(Path(plot).stem)}"></p>' for plot in plots)
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
            "<style>body{font-family:sans-serif;margin:2em}td,th{padding:.2em 1em;text-align:left}"
            "img{max-width:100%}</style></head>"
            f"<body><h1>{esc(title)}</h1><table>{rows}</table>{images}"
            f"{''.join(map(_html_table, tables))}</body></html>\n")


def write_report(out_dir: Path, metrics: dict, history: Sequence[dict], labels: Sequence[int] | np.ndarray,
                 probabilities: Sequence[float] | np.ndarray, title: str, *, calibration: bool = False,
                 short: ShortResult | None = None, behaviour: dict | None = None) -> Path:
    """Write plots, ``report.md`` and ``report.html`` into ``out_dir``; returns the HTML page's path.

    ``metrics`` is :func:`~sentiment_app.evaluation.metrics.compute_metrics` of the same labels and
    probabilities; ``history`` the model's per-epoch records (may be empty: no training plot then).
    Optional sections: ``calibration`` adds a reliability diagram and ECE table of these predictions
    (and of the short sentences when ``short`` is given); ``short`` (from
    :func:`~sentiment_app.evaluation.short.short_accuracy`) a table of its accuracies; ``behaviour``
    (from :func:`~sentiment_app.evaluation.behaviour.run_checks`) a table of pass rates.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plots = []
    if history:
        plot_history(history, out_dir / "training.png")
        plots.append("training.png")
    plot_roc(np.asarray(labels), np.asarray(probabilities), metrics.get("roc_auc"), out_dir / "roc.png")
    plot_confusion(metrics["confusion_matrix"], out_dir / "confusion.png")
    plots += ["roc.png", "confusion.png"]
    tables = []
    if calibration:
        curves = {"IMDB test": reliability(labels, probabilities)}
        if short is not None:
            curves["short sentences"] = reliability(short.labels, short.probabilities)
        plot_reliability(curves, out_dir / "reliability.png")
        plots.append("reliability.png")
        tables.append(_calibration_table(curves))
    if short is not None:
        tables.append(_short_table(short))
    if behaviour is not None:
        tables.append(_behaviour_table(behaviour))
    summary = _summary(metrics)
    atomic_write_bytes(out_dir / "report.md", markdown_page(title, summary, plots, tables).encode("utf-8"))
    page = out_dir / "report.html"
    atomic_write_bytes(page, html_page(title, summary, plots, tables).encode("utf-8"))
    return page
