"""``aws upload``, ``aws train``, ``aws transform``: the pipeline's data, training and batch scoring
steps as SageMaker jobs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from sentiment_app.artifacts.locate import models_root
from sentiment_app.artifacts.versions import register
from sentiment_app.aws.channels import upload_prepared
from sentiment_app.aws.images import image_uri
from sentiment_app.aws.instance_types import TRAINING, TRANSFORM
from sentiment_app.aws.locations import S3Location
from sentiment_app.aws.names import checked_name, stamp
from sentiment_app.aws.serving_model import ModelSource, create_model, serving_model_data
from sentiment_app.aws.session import connect
from sentiment_app.aws.training import DEFAULT_INSTANCE_TYPE as TRAINING_INSTANCE_TYPE
from sentiment_app.aws.training import TrainingSpec, training_results
from sentiment_app.aws.transform import DEFAULT_INSTANCE_TYPE as TRANSFORM_INSTANCE_TYPE
from sentiment_app.aws.waiting import TRAINING_JOB, wait_for
from sentiment_app.cli.aws.options import (InstanceType, image_option, poll_option, region_option, with_location,
                                           with_model_source, with_role)
from sentiment_app.cli.aws.steps import score_by_transform, start_training, training_inputs
from sentiment_app.cli.options import JSON_OPTION, with_settings, with_store
from sentiment_app.cli.output import echo_json, echo_metrics
from sentiment_app.cli.recipe import data_options, family_option, input_options, recipe_options
from sentiment_app.models.registry import MODELS
from sentiment_app.pipeline import DataOptions, Hyperparameters, load_splits, prepare
from sentiment_app.settings import Settings
from sentiment_app.store import open_store


@click.command("upload")
@with_settings
@with_store
@data_options
@family_option
@with_location
def upload_command(settings: Settings, options: DataOptions, family: str, location: S3Location) -> None:
    """Upload the processed data of a family's channel (train.csv, test.csv[, word_dict.json]) as
    the training channels.

    Runs (or finds cached) the feature step first, with the same data and store options as `prepare`."""
    prepared = prepare(settings, options, channel=MODELS[family].channel)
    for uri in upload_prepared(open_store(settings.store), prepared, location):
        click.echo(uri)


@click.command("train")
@with_settings
@with_location
@with_role
@region_option
@image_option
@click.option("--job-name", help="Training job name [sentiment-train-<UTC time>].")
@click.option("--instance-type", type=InstanceType(TRAINING, "training"), default=TRAINING_INSTANCE_TYPE,
              show_default=True)
@click.option("--instance-count", type=click.IntRange(min=1), default=1, show_default=True,
              help="More than 1 trains on all of them: GPU instances with SageMaker's torch_distributed (torchrun "
                   "on each), CPU instances with the entry point once on each, joining the hosts itself.")
@click.option("--max-runtime", type=click.IntRange(min=60), default=24 * 3600, show_default=True, help="Seconds.")
@recipe_options
@input_options
@click.option("--max-reviews", type=click.IntRange(min=2),
              help="With --teacher: the teacher labels a seeded sample of N unlabeled reviews (as `train` does).")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait for the job and fetch its metrics.")
@poll_option
@JSON_OPTION
def train_command(settings: Settings, location: S3Location, role: str, region: str | None, image: str | None,
                  job_name: str | None, instance_type: str, instance_count: int, max_runtime: int, family: str,
                  params: tuple, given_inputs: dict[str, str | None], max_reviews: int | None, seed: int, wait: bool,
                  poll: float, as_json: bool) -> None:
    """Train on SageMaker: the project's entry point in the PyTorch training container (script mode).

    Packs the source into sourcedir.tar.gz, uploads it, creates the (tagged) training job on the
    data `aws upload` put under the bucket (and the --teacher's labels or the --encoder, as channels
    of their own), waits, prints the final metrics, then fetches the model into the home and
    registers it as a model version pending approval."""
    aws = connect(region)
    name = checked_name(job_name or f"sentiment-train-{stamp()}", "training job name")
    inputs = training_inputs(location, settings, DataOptions(max_reviews, seed), family, name, given_inputs)
    spec = TrainingSpec(name, role, image or image_uri(aws.region, "training", instance_type), instance_type,
                        instance_count, max_runtime_s=max_runtime, inputs=inputs)
    start_training(aws, location, spec, Hyperparameters(family, seed, params))
    if not wait:
        click.echo(f"follow it with: sentiment-app aws status --region {aws.region}")
        echo_json({"job": name, "status": "InProgress"}, as_json)
        return
    result = training_results(wait_for(aws.sagemaker, TRAINING_JOB, name, poll), models_root(settings))
    click.echo(f"model: {result['model_data']}")
    for metric, value in result["final_metrics"].items():
        click.echo(f"{metric}: {value}")
    for epoch in (result["metrics"] or {}).get("history", []):
        click.echo(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in epoch.items()))
    if result["model_dir"]:
        version = register(settings, Path(result["model_dir"]))  # pending approval, as a local training's
        result["version"] = version["version"]
        click.echo(f"registered {result['model_dir']} as version {version['version']} ({version['status']})")
    echo_json(result, as_json)


def transform_model(aws: Any, location: S3Location, source: ModelSource, model_name: str | None, name: str,
                    role: str, image: str | None, instance_type: str) -> str:
    """The SageMaker model to run: ``model_name`` as given, else a new one from ``source``."""
    if model_name:
        return model_name
    model_data = serving_model_data(aws, location, source, name)
    create_model(aws, name, image or image_uri(aws.region, "inference", instance_type), model_data, role)
    return name


@click.command("transform")
@with_settings
@data_options
@with_model_source
@with_location
@with_role
@region_option
@image_option
@click.option("--model-name", help="Use this existing SageMaker model instead of creating one.")
@click.option("--job-name", help="Transform job name [sentiment-transform-<UTC time>].")
@click.option("--instance-type", type=InstanceType(TRANSFORM, "batch transform"), default=TRANSFORM_INSTANCE_TYPE,
              show_default=True)
@click.option("--instance-count", type=click.IntRange(min=1), default=1, show_default=True)
@poll_option
@JSON_OPTION
def transform_command(settings: Settings, options: DataOptions, source: ModelSource, location: S3Location, role: str,
                      region: str | None, image: str | None, model_name: str | None, job_name: str | None,
                      instance_type: str, instance_count: int, poll: float, as_json: bool) -> None:
    """Score the test reviews with a SageMaker batch transform job and compute the metrics.

    Uploads the raw test reviews (one per line, text/csv, SplitType=Line), creates the model and the
    (tagged) transform job, waits, downloads the .out and scores it against the labels."""
    aws = connect(region)
    name = checked_name(job_name or f"sentiment-transform-{stamp()}", "transform job name")
    test = load_splits(settings, options)["test"]
    model = transform_model(aws, location, source, model_name, name, role, image, instance_type)
    result = score_by_transform(aws, location, name, model, test, instance_type, instance_count, poll)
    echo_metrics(result)
    echo_json(result, as_json)
