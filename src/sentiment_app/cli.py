"""``sentiment-app``: one thin command layer over the pipeline, serving and lifecycle modules."""

from __future__ import annotations

import sys
from typing import Any

import click

from sentiment_app.batch_command import batch_transform
from sentiment_app.errors import SentimentAppError
from sentiment_app.pipeline_commands import COMMANDS as PIPELINE_COMMANDS
from sentiment_app.serve import serve
from sentiment_app.serving.commands import endpoint


class Main(click.Group):
    """Turns the package's user-facing errors into one clear line and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SentimentAppError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(1)


@click.group(cls=Main)
@click.version_option(package_name="sentiment-app")
def main() -> None:
    """Movie-review sentiment analysis, the SageMaker way, on one machine."""


for command in (*PIPELINE_COMMANDS, batch_transform, serve, endpoint):
    main.add_command(command)
