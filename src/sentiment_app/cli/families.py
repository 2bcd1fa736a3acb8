"""``sentiment-app families``: the model families, their hyperparameters and the default."""

from __future__ import annotations

import json

import click

from sentiment_app.models.registry import DEFAULT_MODEL, MODELS, SEED_MODEL


def describe() -> list[dict]:
    return [{"name": spec.name, "default": spec.name == DEFAULT_MODEL, "reads": spec.channel,
             "inputs": list(spec.inputs), "hyperparameters": spec.hyperparameters, "description": spec.description}
            for spec in MODELS.values()]


@click.command("families")
@click.option("--json", "as_json", is_flag=True, help="Print the list as one JSON array.")
def families(as_json: bool) -> None:
    """List the model families with their hyperparameters; the default is marked (its bundled model
    serves while no trained version is approved).

    Train one with `pipeline --family NAME --hp KEY=VALUE ...` (lstm-seed, the training default, also
    takes --epochs/--batch-size/--lr/--embedding-dim/--hidden-dim/--vocab-size)."""
    rows = describe()
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        marks = [m for m, on in (("default", row["default"]), ("training default", row["name"] == SEED_MODEL)) if on]
        click.echo(f"{row['name']}{' (' + ', '.join(marks) + ')' if marks else ''}: {row['description']}")
        click.echo("    " + " ".join(f"{k}={v}" for k, v in row["hyperparameters"].items()))
        if row["inputs"]:
            click.echo("    optional inputs: " + ", ".join(f"--{name} MODEL" for name in row["inputs"]))
