"""``sentiment-app check``: behavioural tests of a model, in the manner of CheckList."""

from __future__ import annotations

import json

import click

from sentiment_app.artifacts.locate import resolve_model_dir
from sentiment_app.artifacts.versions import record_metrics
from sentiment_app.cli.options import JSON_OPTION, MODEL_HELP, MODEL_SOURCE, with_settings
from sentiment_app.cli.output import echo_behaviour
from sentiment_app.evaluation.behaviour import run_checks
from sentiment_app.inference.model import SentimentModel
from sentiment_app.settings import Settings


@click.command("check")
@click.option("--model", type=MODEL_SOURCE, help=MODEL_HELP)
@JSON_OPTION
@with_settings
def check(settings: Settings, model: str | None, as_json: bool) -> None:
    """Behavioural tests: negation, contrast, intensity, invariance and direction, with pass rates.

    Several hundred short cases generated from templates and word lists; each capability shows its
    pass rate and a few failures (the pass rate is recorded on the model's registry version)."""
    model_dir = resolve_model_dir(settings, model)
    result = run_checks(SentimentModel.load(model_dir).predict_proba)
    record_metrics(settings, model_dir, {"behaviour_pass_rate": result["pass_rate"]})
    if as_json:
        click.echo(json.dumps(result))
    else:
        echo_behaviour(result, examples=3)
