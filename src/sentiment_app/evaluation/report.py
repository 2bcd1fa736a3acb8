"""An evaluation report a person can read: ``report.md``, ``report.html`` and PNG plots in one folder.

Plots are drawn with matplotlib's object API on the Agg canvas (no display, no global pyplot
state) and every file is written atomically, so a report folder never holds half a plot.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.metrics import roc_curve

from sentiment_app.fileio import atomic_write_bytes

CLASSES = ("negative", "positive")


def _save(fig: Figure, path: Path) -> None:
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
    _save(fig, path)


def plot_roc(labels: np.ndarray, probabilities: np.ndarray, auc: float | None, path: Path) -> None:
    fig = Figure(figsize=(4.8, 4.5), layout="constrained")
    ax = fig.subplots()
    fpr, tpr, _ = roc_curve(labels, probabilities)
    ax.plot(fpr, tpr, label=f"model (AUC {auc:.3f})" if auc is not None else "model")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    ax.set(title="ROC curve", xlabel="false positive rate", ylabel="true positive rate", xlim=(0, 1), ylim=(0, 1.01))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    _save(fig, path)


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
    _save(fig, path)


def _summary(metrics: dict) -> list[tuple[str, str]]:
    """The headline numbers as (name, text) rows, shared by the Markdown and HTML versions."""
    names = ("accuracy", "precision", "recall", "f1", "roc_auc")
    rows = [(name, "n/a" if metrics.get(name) is None else f"{metrics[name]:.4f}") for name in names if name in metrics]
    return [("reviews", f"{metrics['count']:,}")] + rows if "count" in metrics else rows


def _markdown(title: str, summary: list[tuple[str, str]], plots: list[str]) -> str:
    lines = [f"# {title}", "", "| metric | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in summary]
    lines += [""] + [f"![{Path(plot).stem}]({plot})" for plot in plots]
    return "\n".join(lines) + "\n"


def _html(title: str, summary: list[tuple[str, str]], plots: list[str]) -> str:
    esc = html.escape
    rows = "".join(f"<tr><th>{esc(name)}</th><td>{esc(value)}</td></tr>" for name, value in summary)
    images = "".join(f'<p><img src="{esc(plot)}" alt="{esc(Path(plot).stem)}"></p>' for plot in plots)
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
            "<style>body{font-family:sans-serif;margin:2em}td,th{padding:.2em 1em;text-align:left}"
            "img{max-width:100%}</style></head>"
            f"<body><h1>{esc(title)}</h1><table>{rows}</table>{images}</body></html>\n")


def write_report(out_dir: Path, metrics: dict, history: Sequence[dict], labels: Sequence[int] | np.ndarray,
                 probabilities: Sequence[float] | np.ndarray, title: str) -> Path:
    """Write plots, ``report.md`` and ``report.html`` into ``out_dir``; returns the HTML page's path.

    ``metrics`` is :func:`~sentiment_app.evaluation.metrics.compute_metrics` of the same labels and
    probabilities; ``history`` the model's per-epoch records (may be empty: no training plot then).
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
    summary = _summary(metrics)
    atomic_write_bytes(out_dir / "report.md", _markdown(title, summary, plots).encode("utf-8"))
    page = out_dir / "report.html"
    atomic_write_bytes(page, _html(title, summary, plots).encode("utf-8"))
    return page
