"""``sentiment-app monitor``: the drift report of an endpoint's captured traffic against the model's baseline."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from sentiment_app.artifacts.locate import resolve_model_dir
from sentiment_app.cli.feedback import ENDPOINT_OPTION, SINCE_OPTION
from sentiment_app.cli.options import JSON_OPTION, MODEL_HELP, MODEL_SOURCE, with_settings, with_store
from sentiment_app.cli.output import echo_json, table
from sentiment_app.inference.model import SentimentModel
from sentiment_app.monitoring.baseline import REFERENCE_RECORDS, baseline_for, read_baseline
from sentiment_app.monitoring.monitor import run_monitor
from sentiment_app.pipeline import data_path
from sentiment_app.settings import Settings
from sentiment_app.store import open_store

VIOLATION_EXIT = 3  # 1 is an error, 2 a usage error


@click.command()
@with_settings
@with_store
@click.option("--model", type=MODEL_SOURCE, help=MODEL_HELP)
@ENDPOINT_OPTION
@SINCE_OPTION
@click.option("--baseline", "baseline_uri", metavar="FOLDER|S3_PREFIX",
              help="A baseline's folder or S3 prefix holding Model Monitor's statistics.json and constraints.json "
                   "(SageMaker's, or this project's with bands.json) [default: the model's, computed once from "
                   "the training data].")
@click.option("--output", type=click.Path(file_okay=False, path_type=Path),
              help="Folder of the report, statistics.json and constraint_violations.json "
                   "[default: <home>/monitoring/<endpoint>].")
@click.option("--fail-on-violation", is_flag=True,
              help=f"Exit with status {VIOLATION_EXIT} when a constraint is violated.")
@JSON_OPTION
def monitor(settings: Settings, model: str | None, endpoint: str, since: datetime | None, baseline_uri: str | None,
            output: Path | None, fail_on_violation: bool, as_json: bool) -> None:
    """Compare an endpoint's captured traffic with a baseline in Model Monitor's files (the model's,
    computed once from the training data, or --baseline): a drift report with plots, and every
    constraint the traffic violates."""
    loaded = SentimentModel.load(resolve_model_dir(settings, model))
    store = open_store(settings.store)
    if baseline_uri:
        baseline = read_baseline(open_store(baseline_uri.rstrip("/")))
    else:
        baseline = baseline_for(store, loaded, lambda: data_path(settings))
    result = run_monitor(store, endpoint, loaded, baseline, output or settings.home / "monitoring" / endpoint, since)
    click.echo(f"{result.records} captured invocations ({result.reviews} reviews) of {loaded.name} {loaded.version} "
               f"on {endpoint}; {result.other_versions} answered by other model versions")
    if result.records < REFERENCE_RECORDS:
        click.echo(f"Constraints are judged on {REFERENCE_RECORDS} or more reviews; is Data Capture on "
                   "(serve --capture-percent)?")
    rows = [["constraint", "band", "observed", "values", "status"]]
    rows += [[c.constraint.name, c.constraint.band, "-" if c.observed is None else f"{c.observed:.4g}", str(c.count),
              c.status] for c in result.checks]
    click.echo(table(rows))
    for violation in result.violations:
        click.secho(f"violation: {violation.constraint.name} = {violation.observed:.4g}, outside the baseline's band "
                    f"{violation.constraint.band}", fg="red")
    for found in result.model_monitor:
        click.secho(f"violation: {found.feature_name} {found.constraint_check_type}: {found.description}", fg="red")
    click.echo(f"report: {result.report}")
    echo_json(result.to_json(), as_json)
    if fail_on_violation and result.constraint_violations:
        raise SystemExit(VIOLATION_EXIT)
