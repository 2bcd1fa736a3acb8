"""CLI commands of the pipeline: ``prepare``, ``train``, ``evaluate``, ``pipeline``."""

from __future__ import annotations

import json
from typing import Any

import click

from sentiment_app.artifacts.locate import resolve_model_dir
from sentiment_app.artifacts.versions import approve_if_better as decide
from sentiment_app.artifacts.versions import evaluation_figures, find_version, record_metrics
from sentiment_app.cli.options import JSON_OPTION, MODEL_HELP, MODEL_SOURCE, with_settings, with_store
from sentiment_app.cli.output import METRIC_KEYS, echo_behaviour, echo_metrics
from sentiment_app.cli.recipe import (NPROC_OPTION, data_options, extra_data_option, family_option, input_options,
                                      recipe_options)
from sentiment_app.models.registry import MODELS
from sentiment_app.pipeline import (DataOptions, Hyperparameters, evaluate, family_inputs, load_splits, prepare,
                                    run_pipeline, short_folder, teacher_labels, train)
from sentiment_app.settings import Settings


JSON_KEYS = (*METRIC_KEYS, "short", "calibration_error", "behaviour", "model_dir", "version")


def print_metrics(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({key: result[key] for key in JSON_KEYS}))
        return
    echo_metrics(result)
    if result["short"]:
        click.echo("short sentences: " + ", ".join(f"{k} {v:.4f}" for k, v in result["short"].items()))
    else:
        click.echo("short sentences: none in the data folder (short/*.tsv)")
    click.echo("calibration error (ECE): " + ", ".join(f"{k} {v:.4f}" for k, v in result["calibration_error"].items()))
    echo_behaviour(result["behaviour"])
    click.echo(f"model: {result['model_dir']}" + (f" (version {result['version']})" if result.get("version") else ""))
    click.echo(f"report: {result['report']}")


@click.command("prepare")
@with_settings
@with_store
@data_options
@family_option
def prepare_command(settings: Settings, options: DataOptions, family: str) -> None:
    """Features: clean, tokenize, build the word dictionary, write train/test CSVs to the store
    (for a text family: the cleaned reviews as ``label,text`` rows)."""
    prepared = prepare(settings, options, channel=MODELS[family].channel)
    click.echo(f"prepared {prepared.train_rows} train / {prepared.test_rows} test rows at {settings.store.rstrip('/')}/{prepared.prefix}")


@click.command("train")
@with_settings
@with_store
@data_options
@extra_data_option
@recipe_options
@input_options
@NPROC_OPTION
def train_command(settings: Settings, options: DataOptions, family: str, params: tuple, nproc_per_node: int,
                  given_inputs: dict[str, str | None]) -> None:
    """Run the SageMaker-style training job locally (resumes an interrupted one)."""
    hyper = Hyperparameters(family, options.seed, params)
    inputs = family_inputs(settings, options, family, **given_inputs)
    job = train(settings, prepare(settings, options, channel=hyper.channel), hyper, nproc_per_node, inputs)
    version = find_version(settings, job.model_dir)
    click.echo(f"job {job.name}: model {job.model_dir}\narchive {job.archive_uri}")
    click.echo(f"registered as version {version['version']} ({version['status']})"
               + (f", with {version['extra_data']['rows']} extra reviews" if version.get("extra_data") else ""))


@click.command("evaluate")
@with_settings
@data_options
@click.option("--model", "model", type=MODEL_SOURCE, help=MODEL_HELP)
@JSON_OPTION
def evaluate_command(settings: Settings, options: DataOptions, model: str | None, as_json: bool) -> None:
    """Score the test set by batch transform, the short sentences and the behavioural checks; print
    the metrics (recorded on the model's registry version) and write a report with plots."""
    model_dir = resolve_model_dir(settings, model)
    test = load_splits(settings, options)["test"]
    out_dir = settings.home / "evaluations" / model_dir.name
    result = evaluate(model_dir, test, out_dir, short_folder(settings))
    version = record_metrics(settings, model_dir, evaluation_figures(result))
    print_metrics({**result, "version": version and version["version"]}, as_json)


@click.command("pipeline")
@with_settings
@with_store
@data_options
@extra_data_option
@recipe_options
@input_options
@NPROC_OPTION
@click.option("--approve-if-better", is_flag=True,
              help="Approve the new version if it beats the approved one by docs/models.md's rule on validation.")
@JSON_OPTION
def pipeline_command(settings: Settings, options: DataOptions, family: str, params: tuple, nproc_per_node: int,
                     given_inputs: dict[str, str | None], approve_if_better: bool, as_json: bool) -> None:
    """Data → features → training → registry → evaluation, each step skipped when its output is current."""
    inputs = family_inputs(settings, options, family, **given_inputs)
    result = run_pipeline(settings, options, Hyperparameters(family, options.seed, params), nproc_per_node, inputs)
    print_metrics(result, as_json)
    if approve_if_better:
        click.echo(decide(settings, result["version"])[1], err=as_json)



@click.command("teacher-labels")
@with_settings
@with_store
@data_options
@click.option("--teacher", type=MODEL_SOURCE, required=True, help="The teacher: a fine-tuned encoder. " + MODEL_HELP)
def teacher_labels_command(settings: Settings, options: DataOptions, teacher: str) -> None:
    """Label sentences and reviews of the unlabeled reviews with a teacher model (soft labels that
    `train --teacher` distils into a fast family); cached in the store."""
    key = teacher_labels(settings, options, teacher)
    click.echo(f"teacher labels: {settings.store.rstrip('/')}/{key}")
