"""``aws status`` and ``aws cleanup``: the cost guard over everything the project created."""

from __future__ import annotations

import json

import click

from sentiment_app.aws.cleanup import cleanup
from sentiment_app.aws.inventory import TAG_KEY, TAG_VALUE, Resource, project_resources, total_hourly_cost, utcnow
from sentiment_app.cli.aws_options import region_option
from sentiment_app.aws.pricing import format_cost
from sentiment_app.aws.session import connect


def format_uptime(seconds: float) -> str:
    minutes, _ = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h {minutes:02d}m" if days else f"{hours}h {minutes:02d}m"


def resource_line(resource: Resource, uptime: float) -> str:
    instances = f"{resource.instance_count} × {resource.instance_type}" if resource.instance_type else "-"
    cost = format_cost(resource.hourly_cost) if resource.instance_type else "-"
    return (f"{resource.kind:<15} {resource.name:<45} {resource.status or '-':<11} {instances:<20} "
            f"{format_uptime(uptime):>11} {cost if resource.running else '(not billing)'}")


@click.command("status")
@region_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object: resources, total_hourly_cost_usd.")
def status_command(region: str | None, as_json: bool) -> None:
    """List every endpoint, config, model and job the project created (by tag) with uptime and cost.

    The hourly costs are estimates from on-demand us-east-1 prices; the total counts only what is
    running now (endpoints in service, jobs in progress)."""
    aws = connect(region)
    resources, now = project_resources(aws.sagemaker), utcnow()
    total = total_hourly_cost(resources)
    if as_json:
        click.echo(json.dumps({"region": aws.region, "tag": {TAG_KEY: TAG_VALUE},
                               "resources": [r.as_json(now) for r in resources], "total_hourly_cost_usd": total}))
        return
    if not resources:
        click.echo(f"nothing tagged {TAG_KEY}={TAG_VALUE} in {aws.region}")
        return
    for resource in resources:
        click.echo(resource_line(resource, resource.uptime_seconds(now)))
    click.echo(f"estimated total for what is running: {format_cost(total)}")


@click.command("cleanup")
@region_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def cleanup_command(region: str | None, yes: bool) -> None:
    """Remove everything the project created: endpoints, endpoint configs and models (tagged), and
    stop its running jobs. Asks first unless --yes."""
    aws = connect(region)
    resources = project_resources(aws.sagemaker)
    if not resources:
        click.echo(f"nothing tagged {TAG_KEY}={TAG_VALUE} in {aws.region}")
        return
    now = utcnow()
    for resource in resources:
        click.echo(resource_line(resource, resource.uptime_seconds(now)))
    if not yes:
        click.confirm(f"Delete the endpoints, configs and models above and stop running jobs in {aws.region}?",
                      abort=True)
    report = cleanup(aws.sagemaker, resources)
    for line in report.deleted:
        click.echo(f"deleted {line}")
    for line in report.stopped:
        click.echo(f"stopped {line}")
    if report.kept:
        click.echo(f"kept {len(report.kept)} finished jobs (SageMaker keeps job history; they cost nothing): "
                   + ", ".join(report.kept))
