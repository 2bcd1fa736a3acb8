"""``aws deploy``, ``aws invoke``, ``aws update-weights``, ``aws delete``: a real-time endpoint from
creation to removal."""

from __future__ import annotations

import click
from botocore.exceptions import BotoCoreError, ClientError

from sentiment_app.aws.deployment import EndpointPlan, create_models, describe_plan, name_room, weight_share
from sentiment_app.aws.endpoints import Capacity, create_endpoint, delete_endpoint, endpoint_config_request, update_weights
from sentiment_app.aws.images import image_uri
from sentiment_app.aws.locations import S3Location
from sentiment_app.aws.names import checked_name, stamp
from sentiment_app.aws.pricing import format_cost, format_serverless_cost, hourly_cost
from sentiment_app.aws.scaling import register_autoscaling
from sentiment_app.aws.session import connect, describe_error
from sentiment_app.aws.waiting import ENDPOINT, wait_for
from sentiment_app.cli.aws.deploy_options import with_endpoint_plan
from sentiment_app.cli.aws.options import image_option, poll_option, region_option, with_location, with_model_source, with_role
from sentiment_app.cli.options import with_home
from sentiment_app.errors import SentimentAppError
from sentiment_app.serving.variants import parse_weights


def delete_hint(endpoint: str, region: str) -> str:
    return f"sentiment-app aws delete {endpoint} --region {region}"


def capacity_text(capacity: Capacity) -> str:
    if capacity.serverless:
        return f"serverless, {capacity.memory_mb} MB, up to {capacity.max_concurrency} concurrent requests"
    return f"{capacity.instance_count} × {capacity.instance_type}"


def cost_text(plan: EndpointPlan) -> str:
    """The estimate: per request for serverless; per hour now, and over the scaling range."""
    capacity = plan.capacity
    if capacity.serverless:
        return f"{format_serverless_cost(capacity.memory_mb)} (billed per request)"
    now, low, high = (format_cost(hourly_cost(capacity.instance_type, n)) for n in plan.instances)
    return f"{now} now, {low} to {high} as it scales," if plan.scaling else now


@click.command("deploy")
@click.argument("endpoint", default="sentiment-app")
@with_home
@with_model_source
@with_location
@with_endpoint_plan
@with_role
@region_option
@image_option
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait until the endpoint is InService.")
@poll_option
def deploy_command(endpoint: str, location: S3Location, plan: EndpointPlan, role: str, region: str | None,
                   image: str | None, wait: bool, poll: float) -> None:
    """Deploy a model as a SageMaker endpoint ENDPOINT [sentiment-app]: model → config → endpoint.

    The model.tar.gz (with code/inference.py) is uploaded or repacked as needed; every resource is
    tagged. Takes several weighted variants, a shadow variant, Data Capture, a serverless endpoint
    or autoscaling instances. Prints the estimated cost and the command that deletes the endpoint."""
    if plan.scaling and not wait:
        raise SentimentAppError("Autoscaling is set up once the endpoint is InService: leave out --no-wait.")
    aws = connect(region)
    checked_name(endpoint, "endpoint name", room=name_room(plan.model_count))
    name = f"{endpoint}-{stamp()}"
    variants, shadows, archives = create_models(
        aws, location, plan, name, image or image_uri(aws.region, "inference", plan.capacity.instance_type), role)
    create_endpoint(aws, endpoint, endpoint_config_request(name, variants, plan.capacity, shadows, plan.capture))
    if plan.model_count == 1:
        click.echo(f"endpoint {endpoint} creating: model {name} ({archives[name]}), {capacity_text(plan.capacity)}")
    else:
        click.echo(f"endpoint {endpoint} creating: {capacity_text(plan.capacity)} per variant")
        for line in describe_plan(variants, shadows, archives):
            click.echo(f"  {line}")
    if plan.capture:
        click.echo(f"data capture: {plan.capture.percent}% of requests and answers to "
                   f"{plan.capture.destination.rstrip('/')}/{endpoint}/<variant>/")
    if wait:
        try:
            wait_for(aws.sagemaker, ENDPOINT, endpoint, poll)
        except SentimentAppError as exc:
            raise SentimentAppError(f"{exc}; remove it with: {delete_hint(endpoint, aws.region)}") from exc
        click.echo(f"endpoint {endpoint} is InService")
        if plan.scaling:
            try:
                register_autoscaling(aws.autoscaling, endpoint, [v.name for v in variants], plan.scaling)
            except (ClientError, BotoCoreError) as exc:
                raise SentimentAppError(f"AWS {describe_error(exc)}; the endpoint runs without autoscaling; "
                                        f"remove it with: {delete_hint(endpoint, aws.region)}") from exc
            click.echo(f"autoscaling: {plan.scaling.min_instances} to {plan.scaling.max_instances} instances per "
                       f"variant, holding {plan.scaling.target_invocations:g} invocations per instance per minute")
    click.echo(f"estimated cost: {cost_text(plan)} until deleted (an estimate; see `sentiment-app aws status`)")
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
    """Delete the endpoint ENDPOINT (its autoscaling first), then its endpoint config and models (in that order)."""
    for removed in delete_endpoint(connect(region), endpoint):
        click.echo(f"deleted {removed}")


@click.command("update-weights")
@click.argument("endpoint")
@click.argument("weights", nargs=-1, required=True, metavar="NAME=WEIGHT...")
@region_option
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait until the endpoint is InService again.")
@poll_option
def update_weights_command(endpoint: str, weights: tuple[str, ...], region: str | None, wait: bool,
                           poll: float) -> None:
    """Shift traffic between the production variants of ENDPOINT, e.g. `a=0.5 b=0.5`
    (UpdateEndpointWeightsAndCapacities): requests are shared in proportion to the weights."""
    wanted = parse_weights(weights)
    aws = connect(region)
    after = update_weights(aws, endpoint, wanted)
    total = sum(after.values())
    for name, weight in after.items():
        click.echo(f"variant {name}: {weight_share(weight, total)}")
    if wait:
        wait_for(aws.sagemaker, ENDPOINT, endpoint, poll)
        click.echo(f"endpoint {endpoint} is InService")
