"""``sentiment-app endpoint ...``: local endpoints over :mod:`sentiment_app.serving.lifecycle`; parses and prints only."""

from __future__ import annotations

import json
from pathlib import Path

import click

from sentiment_app.cli.options import capture_percent_option, with_settings, with_variants
from sentiment_app.cli.output import duration, table
from sentiment_app.serving import lifecycle
from sentiment_app.serving.lifecycle import Endpoint
from sentiment_app.serving.variants import EndpointConfig, parse_weights
from sentiment_app.settings import Settings


@click.group()
def endpoint() -> None:
    """Local SageMaker-style endpoints: background model servers that boto3 can invoke."""


@endpoint.command()
@click.argument("name")
@with_variants
@click.option("--port", type=click.IntRange(1, 65535), help="Port on 127.0.0.1 [default: a free one].")
@click.option("--idle-timeout", type=click.FloatRange(min=0, min_open=True), help="Stop after this many seconds without an invocation.")
@capture_percent_option()
@with_settings
def create(name: str, config: EndpointConfig, port: int | None, idle_timeout: float | None, capture_percent: float,
           settings: Settings) -> None:
    """Start endpoint NAME (one model, or production and shadow variants) and wait until it is InService."""
    created = lifecycle.create_endpoint(settings, name, config, port, idle_timeout, capture_percent=capture_percent)
    click.echo(f"Endpoint {created.name} is InService at {created.url}.")
    click.echo(variants_text(created))
    click.echo(f'Invoke it: boto3.client("sagemaker-runtime", endpoint_url="{created.url}", ...)'
               f'.invoke_endpoint(EndpointName="{created.name}", ContentType="text/plain", Body="...")')


@endpoint.command("update-weights")
@click.argument("name")
@click.argument("weights", nargs=-1, required=True, metavar="VARIANT=WEIGHT...")
@with_settings
def update_weights(name: str, weights: tuple[str, ...], settings: Settings) -> None:
    """Change how endpoint NAME splits its traffic, while it serves (weights are relative)."""
    updated = lifecycle.update_weights(settings, name, parse_weights(weights))
    click.echo(f"Endpoint {name}: new weights in force.")
    click.echo(variants_text(updated))


def variants_text(endpoint: Endpoint) -> str:
    """Each variant with its model, weight and share of the traffic, then the shadows and Data Capture."""
    config = endpoint.config
    total = sum(config.weights.values())
    rows = [["VARIANT", "WEIGHT", "SHARE", "MODEL"]]
    rows += [[v.name, f"{v.weight:g}", f"{100 * v.weight / total:.0f} %", str(v.model)] for v in config.production]
    rows += [[v.name, "shadow", "copy", str(v.model)] for v in config.shadows]
    capture = (f"{endpoint.capture_percent:g} % of invocations to {endpoint.capture_location}"
               if endpoint.capture_location else "off")
    return f"{table(rows)}\nData capture: {capture}"


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
        rows += [[e.name, e.status, model_summary(e), e.url, duration(e.uptime_s)] for e in endpoints]
        click.echo(table(rows))


def model_summary(endpoint: Endpoint) -> str:
    """The model's folder name, or how many variants share the traffic."""
    config = endpoint.config
    return Path(endpoint.model_dir).name if config.plain else f"{len(config.production) + len(config.shadows)} variants"


def describe_text(endpoint: Endpoint) -> str:
    fields = {
        "Name": endpoint.name, "Status": endpoint.status, "URL": endpoint.url,
        "PID": str(endpoint.pid), "Created": endpoint.created_at, "Uptime": duration(endpoint.uptime_s),
        "Idle timeout": f"{endpoint.idle_timeout_s:g} s" if endpoint.idle_timeout_s else "none",
    }
    text = "\n".join(f"{key + ':':<14}{value}" for key, value in fields.items()) + "\n" + variants_text(endpoint)
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
