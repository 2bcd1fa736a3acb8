"""``aws deploy``, ``aws invoke``, ``aws delete``: a real-time endpoint from creation to removal."""

from __future__ import annotations

import click

from sentiment_app.aws.endpoints import create_endpoint, delete_endpoint
from sentiment_app.aws.images import image_uri
from sentiment_app.aws.locations import S3Location
from sentiment_app.aws.names import STAMP_LENGTH, checked_name, stamp
from sentiment_app.aws.pricing import format_cost, hourly_cost
from sentiment_app.aws.serving_model import ModelSource, create_model, serving_model_data
from sentiment_app.aws.session import connect
from sentiment_app.aws.waiting import ENDPOINT, wait_for
from sentiment_app.cli.aws_options import image_option, poll_option, region_option, with_location, with_model_source, with_role
from sentiment_app.cli.options import with_home
from sentiment_app.errors import SentimentAppError
from sentiment_app.settings import Settings


def delete_hint(endpoint: str, region: str) -> str:
    return f"sentiment-app aws delete {endpoint} --region {region}"


@click.command("deploy")
@click.argument("endpoint", default="sentiment-app")
@with_home
@with_model_source
@with_location
@with_role
@region_option
@image_option
@click.option("--instance-type", default="ml.m5.large", show_default=True)
@click.option("--instance-count", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait until the endpoint is InService.")
@poll_option
def deploy_command(endpoint: str, settings: Settings, source: ModelSource, location: S3Location, role: str,
                   region: str | None, image: str | None, instance_type: str, instance_count: int, wait: bool,
                   poll: float) -> None:
    """Deploy a model as a SageMaker endpoint ENDPOINT [sentiment-app]: model → config → endpoint.

    The model.tar.gz (with code/inference.py) is uploaded or repacked as needed; every resource is
    tagged. Prints the estimated hourly cost and the command that deletes the endpoint."""
    aws = connect(region)
    checked_name(endpoint, "endpoint name", room=STAMP_LENGTH + 1)
    name = f"{endpoint}-{stamp()}"
    model_data = serving_model_data(aws, location, source, name)
    create_model(aws, name, image or image_uri(aws.region, "inference", instance_type), model_data, role)
    create_endpoint(aws, endpoint, name, name, instance_type, instance_count)
    cost = format_cost(hourly_cost(instance_type, instance_count))
    click.echo(f"endpoint {endpoint} creating: model {name} ({model_data}), {instance_count} × {instance_type}")
    if wait:
        try:
            wait_for(aws.sagemaker, ENDPOINT, endpoint, poll)
        except SentimentAppError as exc:
            raise SentimentAppError(f"{exc}; remove it with: {delete_hint(endpoint, aws.region)}") from exc
        click.echo(f"endpoint {endpoint} is InService")
    click.echo(f"estimated cost: {cost} until deleted (an estimate; see `sentiment-app aws status`)")
    click.echo(f"delete it with: {delete_hint(endpoint, aws.region)}")


@click.command("invoke")
@click.argument("endpoint")
@click.argument("text")
@region_option
@click.option("--content-type", default="text/plain", show_default=True,
              type=click.Choice(["text/plain", "application/json", "text/csv"]))
@click.option("--accept", default="application/json", show_default=True,
              type=click.Choice(["application/json", "text/plain"]))
def invoke_command(endpoint: str, text: str, region: str | None, content_type: str, accept: str) -> None:
    """Send TEXT (a review) to the endpoint ENDPOINT and print its answer (InvokeEndpoint)."""
    aws = connect(region)
    response = aws.runtime.invoke_endpoint(EndpointName=endpoint, ContentType=content_type, Accept=accept,
                                           # bytes that are not UTF-8 reach Python as surrogates: send them
                                           # as given, and the endpoint says what is wrong with them
                                           Body=text.encode("utf-8", "surrogateescape"))
    click.echo(response["Body"].read().decode("utf-8", errors="replace"))


@click.command("delete")
@click.argument("endpoint")
@region_option
def delete_command(endpoint: str, region: str | None) -> None:
    """Delete the endpoint ENDPOINT, then its endpoint config and model (in that order)."""
    for removed in delete_endpoint(connect(region), endpoint):
        click.echo(f"deleted {removed}")
