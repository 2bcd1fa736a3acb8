"""``sentiment-app endpoint ...``: local endpoints over :mod:`sentiment_app.serving.lifecycle`; parses and prints only."""

from __future__ import annotations

import json
from pathlib import Path

import click

from sentiment_app.cli.options import MODEL_HELP, MODEL_SOURCE, with_settings
from sentiment_app.cli.output import duration, table
from sentiment_app.serving import lifecycle
from sentiment_app.serving.lifecycle import Endpoint
from sentiment_app.settings import Settings


@click.group()
def endpoint() -> None:
    """Local SageMaker-style endpoints: background model servers that boto3 can invoke."""


@endpoint.command()
@click.argument("name")
@click.option("--model", type=MODEL_SOURCE, help=MODEL_HELP)
@click.option("--port", type=click.IntRange(1, 65535), help="Port on 127.0.0.1 [default: a free one].")
@click.option("--idle-timeout", type=click.FloatRange(min=0, min_open=True), help="Stop after this many seconds without an invocation.")
@with_settings
def create(name: str, model: str | None, port: int | None, idle_timeout: float | None, settings: Settings) -> None:
    """Start endpoint NAME and wait until it is InService."""
    created = lifecycle.create_endpoint(settings, name, model, port, idle_timeout)
    click.echo(f"Endpoint {created.name} is InService at {created.url} (model {created.model_dir}).")
    click.echo(f'Invoke it: boto3.client("sagemaker-runtime", endpoint_url="{created.url}", ...)'
               f'.invoke_endpoint(EndpointName="{created.name}", ContentType="text/plain", Body="...")')


@endpoint.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@with_settings
def list_(as_json: bool, settings: Settings) -> None:
    """Show all endpoints with their status and uptime."""
    endpoints = lifecycle.list_endpoints(settings)
    if as_json:
        click.echo(json.dumps([e.view() for e in endpoints], indent=2))
    elif not endpoints:
        click.echo("No endpoints; create one with `sentiment-app endpoint create NAME`.")
    else:
        rows = [["NAME", "STATUS", "MODEL", "URL", "UPTIME"]]
        rows += [[e.name, e.status, Path(e.model_dir).name, e.url, duration(e.uptime_s)] for e in endpoints]
        click.echo(table(rows))


def describe_text(endpoint: Endpoint) -> str:
    fields = {
        "Name": endpoint.name, "Status": endpoint.status, "URL": endpoint.url, "Model": endpoint.model_dir,
        "PID": str(endpoint.pid), "Created": endpoint.created_at, "Uptime": duration(endpoint.uptime_s),
        "Idle timeout": f"{endpoint.idle_timeout_s:g} s" if endpoint.idle_timeout_s else "none",
    }
    text = "\n".join(f"{key + ':':<14}{value}" for key, value in fields.items())
    return text + (f"\nFailure reason: {endpoint.failure_reason}" if endpoint.failure_reason else "")


@endpoint.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@with_settings
def describe(name: str, as_json: bool, settings: Settings) -> None:
    """Show one endpoint in detail, with the failure reason if it failed."""
    found = lifecycle.get_endpoint(settings, name)
    click.echo(json.dumps(found.view(), indent=2) if as_json else describe_text(found))


@endpoint.command()
@click.argument("name")
@with_settings
def delete(name: str, settings: Settings) -> None:
    """Stop endpoint NAME (SIGTERM, then SIGKILL after 30 s) and forget it."""
    lifecycle.delete_endpoint(settings, name)
    click.echo(f"Endpoint {name} deleted.")


@endpoint.command()
@click.argument("name")
@with_settings
def logs(name: str, settings: Settings) -> None:
    """Print the server log of endpoint NAME."""
    click.echo(lifecycle.read_log(settings, name), nl=False)
