"""The job steps the ``aws`` commands share: a training job on the uploaded channels (with a family's
optional inputs), and reviews scored by a batch transform job. ``aws train`` and ``aws transform``
run one each; ``aws smoke`` runs both inside its whole round trip."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any

import click

from sentiment_app.aws.channels import read_meta, upload_inputs
from sentiment_app.aws.locations import S3Location
from sentiment_app.aws.pricing import format_cost, hourly_cost
from sentiment_app.aws.session import Aws
from sentiment_app.aws.training import TrainingSpec, start_training_job
from sentiment_app.aws.transform import read_probabilities, transform_request
from sentiment_app.aws.waiting import TRANSFORM_JOB, wait_for
from sentiment_app.data.dataset import Reviews
from sentiment_app.errors import SentimentAppError
from sentiment_app.evaluation.metrics import compute_metrics
from sentiment_app.models.registry import ROWS
from sentiment_app.pipeline import DataOptions, Hyperparameters, family_inputs, write_review_lines
from sentiment_app.settings import Settings
from sentiment_app.store import open_store
from sentiment_app.store.objects import local_input

TRANSFORM_INPUT = "test_reviews.csv"


def training_inputs(location: S3Location, settings: Settings, options: DataOptions, family: str, job: str,
                    given: dict[str, str | None]) -> dict[str, str]:
    """The family's optional channels given as local models (``teacher``, ``encoder``), made as a
    local training makes them and uploaded to the job's folders; channel → ``s3://`` folder."""
    inputs = family_inputs(settings, options, family, **given)
    return upload_inputs(open_store(settings.store), inputs, location, job) if inputs else {}


def start_training(aws: Aws, location: S3Location, spec: TrainingSpec, hyper: Hyperparameters) -> TrainingSpec:
    """CreateTrainingJob for ``hyper`` on the uploaded channels (the network's vocabulary is theirs)."""
    meta = read_meta(location, hyper.channel)
    if hyper.channel == ROWS:
        hyper = dataclasses.replace(hyper, params=(*hyper.params, ("vocab_size", int(meta["vocab_size"]))))
    spec = dataclasses.replace(spec, hyperparameters=hyper.as_args(), channel_kind=hyper.channel)
    start_training_job(aws, location, spec)
    click.echo(f"training job {spec.name} started: {spec.instance_count} × {spec.instance_type}, "
               f"estimated {format_cost(hourly_cost(spec.instance_type, spec.instance_count))} while it runs")
    return spec


def score_by_transform(aws: Aws, location: S3Location, name: str, model: str, reviews: Reviews, instance_type: str,
                       instance_count: int, poll: float) -> dict[str, Any]:
    """Upload ``reviews`` (one per line), run the transform job ``name`` on ``model``, wait, and score
    its ``.out`` against their labels: the metrics, the job, the model and the output's URI."""
    input_key = f"transform/{name}/input/{TRANSFORM_INPUT}"
    with tempfile.TemporaryDirectory() as tmp:
        location.store.put_file(input_key, write_review_lines(Path(tmp) / TRANSFORM_INPUT, reviews.texts))
    request = transform_request(name, model, location.uri(f"transform/{name}/input/"),
                                location.uri(f"transform/{name}/output/"), instance_type, instance_count)
    aws.sagemaker.create_transform_job(**request)
    click.echo(f"transform job {name} started on {len(reviews)} reviews: {instance_count} × {instance_type}, "
               f"estimated {format_cost(hourly_cost(instance_type, instance_count))} while it runs")
    wait_for(aws.sagemaker, TRANSFORM_JOB, name, poll)
    output = location.uri(f"transform/{name}/output/{TRANSFORM_INPUT}.out")
    with local_input(output) as out:
        probabilities = read_probabilities(out)
    if len(probabilities) != len(reviews):
        raise SentimentAppError(f"{output} has {len(probabilities)} predictions for {len(reviews)} reviews")
    return {**compute_metrics(reviews.labels, probabilities), "job": name, "model": model, "output": output}
