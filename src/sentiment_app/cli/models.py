"""``sentiment-app models ...``: the model registry's versions, their metrics and approval."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from sentiment_app.artifacts import versions
from sentiment_app.cli.options import with_home, with_store
from sentiment_app.cli.output import table
from sentiment_app.settings import Settings

VERSION_ARGUMENT = click.argument("version", metavar="VERSION")
JSON_FLAG = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


@click.group()
def models() -> None:
    """Model versions (every trained model): list, register, describe, approve or reject; the newest approved serves."""


def figure(value: Any) -> str:
    return "-" if value is None else f"{value:.4f}"


@models.command("versions")
@JSON_FLAG
@with_home
def list_versions(as_json: bool, settings: Settings) -> None:
    """List the versions, oldest first, with status and headline metrics."""
    found = versions.read_versions(settings)
    if as_json:
        click.echo(json.dumps(found, indent=2))
    elif not found:
        click.echo("No model versions yet: `sentiment-app pipeline` or `train` registers each model it trains.")
    else:
        rows = [["VERSION", "STATUS", "FAMILY", "VAL ACC", "TEST ACC", "CREATED", "MODEL"]]
        rows += [[str(v["version"]), v["status"], v["family"], figure(v["metrics"].get("val_accuracy")),
                  figure(v["metrics"].get("accuracy")), v["created"], v["model_dir"]] for v in found]
        click.echo(table(rows))


@models.command()
@click.argument("model_dirs", nargs=-1, required=True, metavar="MODEL_DIR...",
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@with_home
@with_store
def register(model_dirs: tuple[Path, ...], settings: Settings) -> None:
    """Register model folders trained elsewhere as new versions, pending approval (again: the same version)."""
    for model_dir in model_dirs:
        version = versions.register(settings, model_dir)
        click.echo(f"Version {version['version']} ({version['family']}, {version['status']}): {version['model_dir']}")


@models.command()
@VERSION_ARGUMENT
@JSON_FLAG
@with_home
def describe(version: str, as_json: bool, settings: Settings) -> None:
    """Show one version (3 or v3): family, data fingerprint, folder, status and every recorded metric."""
    found = versions.get_version(settings, version)
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    for key, value in found.items():
        if key != "metrics":
            click.echo(f"{key + ':':<18}{value}")
    click.echo("metrics:" + ("" if found["metrics"] else " none recorded yet (`sentiment-app evaluate --model N`)"))
    for key, value in found["metrics"].items():
        click.echo(f"  {key + ':':<22}{json.dumps(value)}")


def set_status(version: str, status: str, settings: Settings) -> None:
    changed = versions.set_status(settings, version, status)
    serving = versions.newest_approved(settings)
    click.echo(f"Version {changed['version']} is {status}; by default serve and endpoint create use "
               + (f"version {serving['version']}." if serving else "the bundled model."))


@models.command()
@VERSION_ARGUMENT
@with_home
@with_store
def approve(version: str, settings: Settings) -> None:
    """Approve a version: the newest approved one serves by default."""
    set_status(version, versions.APPROVED, settings)


@models.command()
@VERSION_ARGUMENT
@with_home
@with_store
def reject(version: str, settings: Settings) -> None:
    """Reject a version: it is no longer served by default (it stays listed)."""
    set_status(version, versions.REJECTED, settings)
