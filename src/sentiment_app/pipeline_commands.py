"""CLI commands of the pipeline: ``prepare``, ``train``, ``evaluate``, ``pipeline``."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import click

from sentiment_app.cli_options import with_settings
from sentiment_app.features.prepare import FeatureSettings
from sentiment_app.model_dirs import resolve_model_dir
from sentiment_app.pipeline import DataOptions, Hyperparameters, evaluate, load_splits, prepare, run_pipeline, train
from sentiment_app.settings import Settings

METRIC_KEYS = ("accuracy", "precision", "recall", "f1", "roc_auc", "confusion_matrix", "model_dir")


def data_options(func: Callable[..., Any]) -> Callable[..., Any]:
    @click.option("--max-reviews", type=click.IntRange(min=2), help="Use a stratified random sample of N reviews per split.")
    @click.option("--seed", type=int, default=1, show_default=True, help="Seed for sampling, shuffling and training.")
    @click.option("--vocab-size", type=click.IntRange(min=3), default=5000, show_default=True)
    @functools.wraps(func)
    def wrapper(*args: Any, max_reviews: int | None, seed: int, vocab_size: int, **kwargs: Any) -> Any:
        options = DataOptions(max_reviews, seed, FeatureSettings(vocab_size=vocab_size))
        return func(*args, options=options, **kwargs)

    return wrapper


def training_options(func: Callable[..., Any]) -> Callable[..., Any]:
    @click.option("--epochs", type=click.IntRange(min=1), default=10, show_default=True)
    @click.option("--batch-size", type=click.IntRange(min=1), default=512, show_default=True)
    @click.option("--embedding-dim", type=click.IntRange(min=1), default=32, show_default=True)
    @click.option("--hidden-dim", type=click.IntRange(min=1), default=100, show_default=True)
    @functools.wraps(func)
    def wrapper(*args: Any, epochs: int, batch_size: int, embedding_dim: int, hidden_dim: int, **kwargs: Any) -> Any:
        options: DataOptions = kwargs["options"]
        hyper = Hyperparameters(epochs=epochs, batch_size=batch_size, seed=options.seed, embedding_dim=embedding_dim,
                                hidden_dim=hidden_dim, vocab_size=options.features.vocab_size)
        return func(*args, hyper=hyper, **kwargs)

    return wrapper


def print_metrics(result: dict[str, Any], as_json: bool) -> None:
    summary = {key: result[key] for key in METRIC_KEYS}
    if as_json:
        click.echo(json.dumps(summary))
        return
    for key in METRIC_KEYS[:5]:
        click.echo(f"{key:>10}: {summary[key]:.4f}")
    click.echo(f"confusion matrix [[tn, fp], [fn, tp]]: {summary['confusion_matrix']}")
    click.echo(f"model: {summary['model_dir']}\nreport: {result['report']}")


@click.command("prepare")
@with_settings
@data_options
def prepare_command(settings: Settings, options: DataOptions) -> None:
    """Features: clean, tokenize, build the word dictionary, write train/test CSVs to the store."""
    prepared = prepare(settings, options)
    click.echo(f"prepared {prepared.train_rows} train / {prepared.test_rows} test rows at {settings.store}/{prepared.prefix}")


@click.command("train")
@with_settings
@data_options
@training_options
def train_command(settings: Settings, options: DataOptions, hyper: Hyperparameters) -> None:
    """Run the SageMaker-style training job locally (resumes an interrupted one)."""
    job = train(settings, prepare(settings, options), hyper)
    click.echo(f"job {job.name}: model {job.model_dir}\narchive {job.archive_uri}")


@click.command("evaluate")
@with_settings
@data_options
@click.option("--model", "model", type=click.Path(exists=True, file_okay=False), help="Model directory [newest trained].")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as one JSON object.")
def evaluate_command(settings: Settings, options: DataOptions, model: str | None, as_json: bool) -> None:
    """Score the test set by batch transform; print metrics and write a report with plots."""
    model_dir = resolve_model_dir(settings, model)
    test = load_splits(settings, options)["test"]
    print_metrics(evaluate(model_dir, test, settings.home / "evaluations" / model_dir.name), as_json)


@click.command("pipeline")
@with_settings
@data_options
@training_options
@click.option("--json", "as_json", is_flag=True, help="Print the final test metrics as one JSON object (last line).")
def pipeline_command(settings: Settings, options: DataOptions, hyper: Hyperparameters, as_json: bool) -> None:
    """Data → features → training → evaluation, each step skipped when its output is current."""
    print_metrics(run_pipeline(settings, options, hyper), as_json)


COMMANDS = (prepare_command, train_command, evaluate_command, pipeline_command)
