"""``sentiment-app feedback``: what people said their reviews really were, joined to the captured reviews."""

from __future__ import annotations

from datetime import datetime

import click

from sentiment_app.cli.options import JSON_OPTION, with_settings, with_store
from sentiment_app.cli.output import echo_json
from sentiment_app.errors import SentimentAppError
from sentiment_app.gateway.api.local_stack import ENDPOINT_NAME
from sentiment_app.monitoring.feedback import export_feedback, write_labeled
from sentiment_app.monitoring.traffic import parse_time
from sentiment_app.settings import Settings
from sentiment_app.store import open_store


def parse_since(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """``--since``: an ISO 8601 date or time (UTC unless it names an offset)."""
    try:
        return None if value is None else parse_time(value)
    except SentimentAppError as exc:
        raise click.BadParameter(str(exc)) from None


ENDPOINT_OPTION = click.option("--endpoint", default=ENDPOINT_NAME, show_default=True,
                               help="The endpoint whose captured traffic and feedback to read.")
SINCE_OPTION = click.option("--since", callback=parse_since, metavar="ISO",
                            help="Only what came at or after this time, e.g. 2026-12-01 or 2026-12-01T16:00:00Z.")


@click.group()
def feedback() -> None:
    """Feedback on the API's answers: export it joined to the captured reviews, for retraining."""


@feedback.command("export")
@with_settings
@with_store
@click.option("--output", required=True, metavar="FILE",
              help="Where to write the labeled reviews (label,text rows; a path or s3:// URI).")
@ENDPOINT_OPTION
@SINCE_OPTION
@JSON_OPTION
def export(settings: Settings, output: str, endpoint: str, since: datetime | None, as_json: bool) -> None:
    """Join the feedback (given --since) to the captured reviews by inference id, into a labeled CSV
    that `train --extra-data` adds to the training split."""
    joined = export_feedback(open_store(settings.store), endpoint, since)
    rows = len(joined.reviews)
    counts = {"joined": rows, "feedback": joined.feedback, "without_capture": joined.without_capture,
              "batches": joined.batches, "unreadable": joined.unreadable}
    if not rows:
        raise SentimentAppError(
            f"No feedback of endpoint {endpoint!r} in {settings.store} has a captured review to join "
            f"({joined.feedback} feedback entries, {joined.without_capture} without a capture, {joined.batches} on "
            "batches): nothing written. Is Data Capture on (serve --capture-percent)?")
    write_labeled(output, joined.reviews)
    positive = int(joined.reviews.labels.sum())
    click.echo(f"{rows} labeled reviews ({positive} positive, {rows - positive} negative) written to {output}")
    click.echo(f"{joined.without_capture} of {joined.feedback} feedback entries had no captured review; "
               f"{joined.batches} were on batch answers; {joined.unreadable} files or lines could not be read")
    echo_json({**counts, "output": output}, as_json)
