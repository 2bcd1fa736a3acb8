"""``aws status`` and ``aws cleanup``: the cost guard over everything the project created."""

from __future__ import annotations

import json

import click

from sentiment_app.aws.cleanup import cleanup
from sentiment_app.aws.inventory import TAG_KEY, TAG_VALUE, Resource, project_resources, total_hourly_cost, utcnow
from sentiment_app.aws.pricing import format_cost, format_serverless_cost
from sentiment_app.aws.scaling import with_autoscaling
from sentiment_app.aws.session import connect
from sentiment_app.cli.aws.options import region_option


def format_uptime(seconds: float) -> str:
    minutes, _ = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h {minutes:02d}m" if days else f"{hours}h {minutes:02d}m"


def resource_line(resource: Resource, uptime: float) -> str:
    """Kind, name, status, what it runs on, uptime, cost; then a serverless endpoint's concurrency and
    each autoscaled variant's bounds."""
    if resource.serverless:
        instances = f"serverless {resource.serverless['memory_mb']} MB"
        cost = format_serverless_cost(resource.serverless["memory_mb"])
    else:
        instances = f"{resource.instance_count} × {resource.instance_type}" if resource.instance_type else "-"
        cost = format_cost(resource.hourly_cost) if resource.instance_type else "-"
    extras = [f"up to {resource.serverless['max_concurrency']} concurrent requests"] if resource.serverless else []
    extras += [f"{s['variant']} scales {s['min_instances']}-{s['max_instances']} instances"
               + (f" at {s['target_invocations']:g} invocations/instance/min" if s["target_invocations"] else "")
               for s in resource.scaling]
    return (f"{resource.kind:<15} {resource.name:<45} {resource.status or '-':<11} {instances:<20} "
            f"{format_uptime(uptime):>11} {cost if resource.running else '(not billing)'}"
            + "".join(f"; {extra}" for extra in extras))


@click.command("status")
@region_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object: resources, total_hourly_cost_usd.")
def status_command(region: str | None, as_json: bool) -> None:
    """List every endpoint, config, model and job the project created (by tag) with uptime and cost.

    The hourly costs are estimates from on-demand us-east-1 prices; the total counts only what is
    running now (endpoints in service, jobs in progress). A serverless endpoint bills per request,
    nothing while idle; autoscaled variants show their bounds."""
    aws = connect(region)
    resources, now = with_autoscaling(aws.autoscaling, project_resources(aws.sagemaker)), utcnow()
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
    """Remove everything the project created: endpoints (their autoscaling first), endpoint configs
    and models (tagged), and stop its running jobs. Asks first unless --yes."""
    aws = connect(region)
    resources = with_autoscaling(aws.autoscaling, project_resources(aws.sagemaker))
    if not resources:
        click.echo(f"nothing tagged {TAG_KEY}={TAG_VALUE} in {aws.region}")
        return
    now = utcnow()
    for resource in resources:
        click.echo(resource_line(resource, resource.uptime_seconds(now)))
    if not yes:
        click.confirm(f"Delete the endpoints, configs and models above and stop running jobs in {aws.region}?",
                      abort=True)
    report = cleanup(aws.sagemaker, aws.autoscaling, resources)
    for line in report.deleted:
        click.echo(f"deleted {line}")
    for line in report.stopped:
        click.echo(f"stopped {line}")
    if report.kept:
        click.echo(f"kept {len(report.kept)} finished jobs (SageMaker keeps job history; they cost nothing): "
                   + ", ".join(report.kept))
