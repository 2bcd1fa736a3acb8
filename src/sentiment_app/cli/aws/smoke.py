"""``aws smoke``: one command that checks an account end to end, and leaves nothing behind.

Upload a small sample, train the default family on it, deploy the model as a serverless endpoint,
invoke it, score test reviews by batch transform, print what each step cost, then remove
everything the run created: the endpoint, its config and the model (through the same cleanup as
``aws cleanup``, limited to this run's name), a job still running, and every object under the
run's own S3 prefix. The removal runs whatever happened before it, a failed step or Ctrl-C.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import click
from botocore.exceptions import BotoCoreError, ClientError

from sentiment_app.aws.channels import upload_prepared
from sentiment_app.aws.cleanup import cleanup, remove_objects
from sentiment_app.aws.deployment import DEFAULT_MAX_CONCURRENCY, DEFAULT_MEMORY_MB
from sentiment_app.aws.endpoints import Capacity, Variant, create_endpoint, endpoint_config_request
from sentiment_app.aws.images import image_uri
from sentiment_app.aws.inventory import project_resources
from sentiment_app.aws.locations import S3Location
from sentiment_app.aws.names import stamp
from sentiment_app.aws.pricing import instance_cost, serverless_cost_per_second
from sentiment_app.aws.serving_model import ModelSource, create_model, serving_model_data
from sentiment_app.aws.session import Aws, connect, describe_error
from sentiment_app.aws.training import DEFAULT_INSTANCE_TYPE as TRAINING_INSTANCE_TYPE
from sentiment_app.aws.training import TrainingSpec
from sentiment_app.aws.transform import DEFAULT_INSTANCE_TYPE as TRANSFORM_INSTANCE_TYPE
from sentiment_app.aws.waiting import ENDPOINT, TRAINING_JOB, wait_for
from sentiment_app.cli.aws.options import poll_option, region_option, with_location, with_role
from sentiment_app.cli.aws.steps import score_by_transform, start_training
from sentiment_app.cli.options import with_settings
from sentiment_app.errors import SentimentAppError
from sentiment_app.models.registry import MODELS, SEED_MODEL
from sentiment_app.pipeline import DataOptions, Hyperparameters, load_splits, prepare
from sentiment_app.serving.variants import DEFAULT_VARIANT
from sentiment_app.settings import Settings
from sentiment_app.store import open_store

CHECK_REVIEWS = ("A wonderful, moving film with brilliant acting; I loved every minute.",
                 "Dreadful, boring and stupid: the worst movie I have ever seen.")
SEED = 1


def elapsed(description: dict[str, Any], start: str, end: str) -> float:
    """Seconds between two timestamps of a job's description (0 when either is missing)."""
    first, last = description.get(start), description.get(end)
    return (last - first).total_seconds() if isinstance(first, datetime) and isinstance(last, datetime) else 0.0


@dataclasses.dataclass
class SmokeRun:
    """One run: every SageMaker resource it creates is named ``name``, every object lies under
    ``location``, so removing the run removes exactly what it made."""

    aws: Aws
    settings: Settings
    location: S3Location
    role: str
    name: str
    poll: float
    costs: dict[str, float | None] = dataclasses.field(default_factory=dict)

    def upload(self, reviews: int) -> None:
        prepared = prepare(self.settings, DataOptions(reviews, SEED), channel=MODELS[SEED_MODEL].channel)
        uploaded = upload_prepared(open_store(self.settings.store), prepared, self.location)
        click.echo(f"  {prepared.train_rows} training and {prepared.test_rows} validation reviews, "
                   f"{len(uploaded)} objects under {self.location.uri()}")

    def train(self, epochs: int) -> None:
        spec = TrainingSpec(self.name, self.role, image_uri(self.aws.region, "training", TRAINING_INSTANCE_TYPE))
        start_training(self.aws, self.location, spec, Hyperparameters(SEED_MODEL, SEED, (("epochs", epochs),)))
        job = wait_for(self.aws.sagemaker, TRAINING_JOB, self.name, self.poll)
        seconds = job.get("BillableTimeInSeconds") or elapsed(job, "TrainingStartTime", "TrainingEndTime")
        self.costs["training"] = instance_cost(spec.instance_type, spec.instance_count, seconds)
        metrics = ", ".join(f"{m['MetricName']} {m['Value']:.4g}" for m in job.get("FinalMetricDataList", []))
        click.echo(f"  {job['ModelArtifacts']['S3ModelArtifacts']}" + (f" ({metrics})" if metrics else ""))

    def deploy(self) -> None:
        model_data = serving_model_data(self.aws, self.location, ModelSource(training_job=self.name), self.name)
        create_model(self.aws, self.name, image_uri(self.aws.region, "inference", None), model_data, self.role)
        capacity = Capacity(None, memory_mb=DEFAULT_MEMORY_MB, max_concurrency=DEFAULT_MAX_CONCURRENCY)
        create_endpoint(self.aws, self.name,
                        endpoint_config_request(self.name, [Variant(DEFAULT_VARIANT, self.name)], capacity))
        wait_for(self.aws.sagemaker, ENDPOINT, self.name, self.poll)
        click.echo(f"  endpoint {self.name} is InService (serverless, {DEFAULT_MEMORY_MB} MB)")

    def invoke(self) -> None:
        seconds = 0.0
        for review in CHECK_REVIEWS:
            started = time.monotonic()
            response = self.aws.runtime.invoke_endpoint(EndpointName=self.name, ContentType="text/plain",
                                                        Accept="application/json", Body=review.encode())
            body = response["Body"].read()
            seconds += time.monotonic() - started
            try:
                answer = json.loads(body)
                label, probability = answer["label"], float(answer["probability"])
            except (ValueError, KeyError, TypeError) as exc:
                raise SentimentAppError(f"endpoint {self.name} answered {body[:200]!r}, not a prediction") from exc
            click.echo(f"  {label} ({probability:.3f}): {review}")
        self.costs["endpoint"] = serverless_cost_per_second(DEFAULT_MEMORY_MB) * seconds

    def transform(self, reviews: int) -> None:
        test = load_splits(self.settings, DataOptions(reviews, SEED))["test"]
        result = score_by_transform(self.aws, self.location, self.name, self.name, test, TRANSFORM_INSTANCE_TYPE, 1,
                                    self.poll)
        job = self.aws.sagemaker.describe_transform_job(TransformJobName=self.name)
        self.costs["batch transform"] = instance_cost(TRANSFORM_INSTANCE_TYPE, 1,
                                                      elapsed(job, "TransformStartTime", "TransformEndTime"))
        click.echo(f"  accuracy {result['accuracy']:.4f} on {result['count']} test reviews")

    def report_costs(self) -> None:
        for what, cost in self.costs.items():
            click.echo(f"  {what}: {'unknown' if cost is None else f'${cost:.4f}'}")
        known = [cost for cost in self.costs.values() if cost is not None]
        click.echo(f"  total: ${sum(known):.4f} (an estimate from on-demand us-east-1 prices and the measured "
                   f"times; the endpoint as the seconds its requests took)")

    def remove(self) -> None:
        """Everything this run created, whatever state it is in."""
        ours = [r for r in project_resources(self.aws.sagemaker) if r.name == self.name]
        report = cleanup(self.aws.sagemaker, self.aws.autoscaling, ours)
        for line in (*(f"deleted {d}" for d in report.deleted), *(f"stopped {s}" for s in report.stopped),
                     *(f"kept {k}: SageMaker keeps finished jobs' history; they cost nothing" for k in report.kept)):
            click.echo(f"  {line}")
        click.echo(f"  deleted {len(remove_objects(self.aws.client('s3'), self.location))} objects under "
                   f"{self.location.uri()}/")


@click.command("smoke")
@with_settings
@with_location
@with_role
@region_option
@click.option("--train-reviews", type=click.IntRange(min=2), default=2000, show_default=True,
              help="Reviews per split in the training sample.")
@click.option("--epochs", type=click.IntRange(min=1), default=2, show_default=True)
@click.option("--transform-reviews", type=click.IntRange(min=2), default=1000, show_default=True,
              help="Test reviews scored by batch transform.")
@poll_option
def smoke_command(settings: Settings, location: S3Location, role: str, region: str | None, train_reviews: int,
                  epochs: int, transform_reviews: int, poll: float) -> None:
    """Check an account end to end in minutes, then remove everything the check created.

    Uploads a small sample, trains the default family on it, deploys a serverless endpoint and
    invokes it, scores test reviews by batch transform and prints what each step cost. The last
    step deletes the endpoint, config and model, stops a job still running and deletes the run's
    objects in S3, also when a step before it failed."""
    aws = connect(region)
    name = f"sentiment-smoke-{stamp()}"
    run = SmokeRun(aws, settings, dataclasses.replace(location, prefix=f"{location.prefix}/{name}".strip("/")),
                   role, name, poll)
    steps: list[tuple[str, Callable[[], None]]] = [
        (f"upload a sample of {train_reviews} reviews per split", lambda: run.upload(train_reviews)),
        (f"train {SEED_MODEL} for {epochs} epochs on {TRAINING_INSTANCE_TYPE}", lambda: run.train(epochs)),
        ("deploy a serverless endpoint", run.deploy),
        ("invoke the endpoint", run.invoke),
        (f"score {transform_reviews} test reviews by batch transform on {TRANSFORM_INSTANCE_TYPE}",
         lambda: run.transform(transform_reviews)),
        ("estimated cost", run.report_costs),
    ]
    total = len(steps) + 1
    click.echo(f"smoke run {name} in {aws.region}")
    try:
        for number, (title, step) in enumerate(steps, 1):
            click.echo(f"[{number}/{total}] {title}")
            step()
    finally:
        click.echo(f"[{total}/{total}] remove everything the run created")
        try:
            run.remove()
        except (ClientError, BotoCoreError, SentimentAppError) as exc:
            raise SentimentAppError(f"removing smoke run {name} failed ({describe_error(exc)}); "
                                    f"`sentiment-app aws cleanup --region {aws.region}` removes what is left") from exc
    click.echo(f"smoke run {name} passed")
