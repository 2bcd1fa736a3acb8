"""CLI commands of the pipeline: ``prepare``, ``train``, ``evaluate``, ``pipeline``."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import click
from click.core import ParameterSource

from sentiment_app.cli_options import MODEL_SOURCE, with_settings, with_store
from sentiment_app.features.prepare import FeatureSettings
from sentiment_app.model_dirs import resolve_model_dir
from sentiment_app.models.registry import MODELS, SEED_MODEL, TEXT, ModelChoiceError
from sentiment_app.pipeline import DataOptions, Hyperparameters, evaluate, load_splits, prepare, run_pipeline, train
from sentiment_app.settings import Settings

METRIC_KEYS = ("accuracy", "precision", "recall", "f1", "roc_auc", "confusion_matrix", "model_dir")
NPROC_OPTION = click.option(
    "--nproc-per-node", type=click.IntRange(min=1), default=1, show_default=True,
    help="Train with N processes under torchrun (DistributedDataParallel); --batch-size stays the global batch.")


def data_options(func: Callable[..., Any]) -> Callable[..., Any]:
    @click.option("--max-reviews", type=click.IntRange(min=2), help="Use a stratified random sample of N reviews per split.")
    @click.option("--seed", type=int, default=1, show_default=True, help="Seed for sampling, shuffling and training.")
    @click.option("--vocab-size", type=click.IntRange(min=3), default=5000, show_default=True)
    @functools.wraps(func)
    def wrapper(*args: Any, max_reviews: int | None, seed: int, vocab_size: int, **kwargs: Any) -> Any:
        options = DataOptions(max_reviews, seed, FeatureSettings(vocab_size=vocab_size))
        return func(*args, options=options, **kwargs)

    return wrapper


MODEL_OPTION = click.option("--model", "model_name", type=click.Choice(sorted(MODELS)), default=SEED_MODEL,
                            show_default=True, help="Model family (see `sentiment-app models`).")
SEED_OPTIONS = ("epochs", "batch_size", "embedding_dim", "hidden_dim", "vocab_size")


def parse_hp(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    pairs = [value.partition("=") for value in values]
    if bad := [value for value, (_, eq, _) in zip(values, pairs) if not eq]:
        raise click.BadParameter(f"expected KEY=VALUE, got {bad[0]!r}", param_hint="--hp")
    return tuple((key.strip().replace("-", "_"), value) for key, _, value in pairs)


def training_options(func: Callable[..., Any]) -> Callable[..., Any]:
    @MODEL_OPTION
    @click.option("--hp", multiple=True, metavar="KEY=VALUE",
                  help="A hyperparameter of a text model (repeatable), e.g. --model nbsvm --hp C=0.1.")
    @click.option("--epochs", type=click.IntRange(min=1), default=10, show_default=True, help="lstm-seed.")
    @click.option("--batch-size", type=click.IntRange(min=1), default=512, show_default=True, help="lstm-seed.")
    @click.option("--embedding-dim", type=click.IntRange(min=1), default=32, show_default=True, help="lstm-seed.")
    @click.option("--hidden-dim", type=click.IntRange(min=1), default=100, show_default=True, help="lstm-seed.")
    @functools.wraps(func)
    def wrapper(*args: Any, model_name: str, hp: tuple[str, ...], epochs: int, batch_size: int, embedding_dim: int,
                hidden_dim: int, **kwargs: Any) -> Any:
        options: DataOptions = kwargs["options"]
        if MODELS[model_name].channel == TEXT:
            source = click.get_current_context().get_parameter_source
            if given := [f"--{o.replace('_', '-')}" for o in SEED_OPTIONS if source(o) != ParameterSource.DEFAULT]:
                raise ModelChoiceError(f"{', '.join(given)} set lstm-seed's recipe; give {model_name}'s "
                                       "hyperparameters as --hp KEY=VALUE (see `sentiment-app models`)")
        hyper = Hyperparameters(model=model_name, epochs=epochs, batch_size=batch_size, seed=options.seed,
                                embedding_dim=embedding_dim, hidden_dim=hidden_dim,
                                vocab_size=options.features.vocab_size, params=parse_hp(hp))
        hyper.as_args()  # refuses unknown hyperparameters before any work starts
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
@with_store
@data_options
@MODEL_OPTION
def prepare_command(settings: Settings, options: DataOptions, model_name: str) -> None:
    """Features: clean, tokenize, build the word dictionary, write train/test CSVs to the store
    (for a text model: the cleaned reviews as ``label,text`` rows)."""
    prepared = prepare(settings, options, channel=MODELS[model_name].channel)
    click.echo(f"prepared {prepared.train_rows} train / {prepared.test_rows} test rows at {settings.store.rstrip('/')}/{prepared.prefix}")


@click.command("train")
@with_settings
@with_store
@data_options
@training_options
@NPROC_OPTION
def train_command(settings: Settings, options: DataOptions, hyper: Hyperparameters, nproc_per_node: int) -> None:
    """Run the SageMaker-style training job locally (resumes an interrupted one)."""
    job = train(settings, prepare(settings, options, channel=hyper.channel), hyper, nproc_per_node)
    click.echo(f"job {job.name}: model {job.model_dir}\narchive {job.archive_uri}")


@click.command("evaluate")
@with_settings
@data_options
@click.option("--model", "model", type=MODEL_SOURCE,
              help="Model directory, model.tar.gz or its s3:// URI [default: newest trained, else the bundled one].")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as one JSON object.")
def evaluate_command(settings: Settings, options: DataOptions, model: str | None, as_json: bool) -> None:
    """Score the test set by batch transform; print metrics and write a report with plots."""
    model_dir = resolve_model_dir(settings, model)
    test = load_splits(settings, options)["test"]
    print_metrics(evaluate(model_dir, test, settings.home / "evaluations" / model_dir.name), as_json)


@click.command("pipeline")
@with_settings
@with_store
@data_options
@training_options
@NPROC_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the final test metrics as one JSON object (last line).")
def pipeline_command(settings: Settings, options: DataOptions, hyper: Hyperparameters, nproc_per_node: int,
                     as_json: bool) -> None:
    """Data → features → training → evaluation, each step skipped when its output is current."""
    print_metrics(run_pipeline(settings, options, hyper, nproc_per_node), as_json)

