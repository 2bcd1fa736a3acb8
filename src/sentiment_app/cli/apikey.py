"""``sentiment-app apikey ...``: API keys for ``serve --require-api-key``; parses and prints only."""

from __future__ import annotations

import json

import click

from sentiment_app.cli.options import with_settings
from sentiment_app.gateway.keys.apikeys import ApiKeyStore, utc_day
from sentiment_app.cli.output import table
from sentiment_app.settings import Settings


def _limit(value: float | int | None, unit: str) -> str:
    return "unlimited" if value is None else f"{value:g}{unit}"


@click.group()
def apikey() -> None:
    """API keys for the gateway (`serve --require-api-key`): create, list, revoke."""


@apikey.command()
@click.argument("name")
@click.option("--rate", type=click.FloatRange(min=0, min_open=True),
              help="Requests per second (token bucket) [default: unlimited].")
@click.option("--burst", type=click.IntRange(min=1),
              help="Requests allowed at once above the rate [default: one second's worth].")
@click.option("--quota", type=click.IntRange(min=1), help="Requests per UTC day [default: unlimited].")
@with_settings
def create(name: str, rate: float | None, burst: int | None, quota: int | None, settings: Settings) -> None:
    """Create key NAME and print it once: only its hash is stored, so it cannot be shown again."""
    if burst is not None and rate is None:
        raise click.UsageError("--burst needs --rate.")
    key = ApiKeyStore(settings.apikeys).create(name, rate, burst, quota)
    click.echo(key)
    click.echo(f"Created API key {name!r} ({_limit(rate, '/s')}, quota {_limit(quota, '/day')}). "
               "Send it as the x-api-key header; it is shown only this once.", err=True)


@apikey.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@with_settings
def list_(as_json: bool, settings: Settings) -> None:
    """Show the keys' names, limits and usage (never the keys themselves)."""
    store = ApiKeyStore(settings.apikeys)
    keys, usage, day = store.load(), store.load_usage(), utc_day()
    rows = []
    for name, key in sorted(keys.items()):
        used = usage.get(name)
        rows.append({"name": name, "status": "active" if key.active else "revoked", "rate": key.rate,
                     "burst": key.burst, "quota": key.quota, "created": key.created, "revoked": key.revoked,
                     "requests_today": used.count_today(day) if used else 0,
                     "requests_total": used.total if used else 0, "last_used": used.last_used if used else None})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    elif not rows:
        click.echo("No API keys; create one with `sentiment-app apikey create NAME`.")
    else:
        header = ["NAME", "STATUS", "RATE", "BURST", "QUOTA", "CREATED", "TODAY", "TOTAL", "LAST USED"]
        click.echo(table([header] + [
            [r["name"], r["status"], _limit(r["rate"], "/s"), str(r["burst"] or "-"), _limit(r["quota"], "/day"),
             r["created"], str(r["requests_today"]), str(r["requests_total"]), r["last_used"] or "-"]
            for r in rows]))


@apikey.command()
@click.argument("name")
@with_settings
def revoke(name: str, settings: Settings) -> None:
    """Revoke key NAME; a running gateway refuses it from its next request, no restart needed."""
    ApiKeyStore(settings.apikeys).revoke(name)
    click.echo(f"Revoked API key {name!r}.")
