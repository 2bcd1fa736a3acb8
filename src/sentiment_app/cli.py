"""``sentiment-app``: one thin command layer over the pipeline, serving and lifecycle modules.

Commands are imported only when run: torch, scikit-learn, matplotlib, NLTK and boto3 take seconds
to import, and ``sentiment-app apikey list`` should not wait for all of them.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from sentiment_app.errors import SentimentAppError

COMMANDS = {
    "prepare": "sentiment_app.pipeline_commands:prepare_command",
    "train": "sentiment_app.pipeline_commands:train_command",
    "evaluate": "sentiment_app.pipeline_commands:evaluate_command",
    "pipeline": "sentiment_app.pipeline_commands:pipeline_command",
    "batch-transform": "sentiment_app.batch_command:batch_transform",
    "serve": "sentiment_app.serve:serve",
    "endpoint": "sentiment_app.serving.commands:endpoint",
    "models": "sentiment_app.models_command:models",
    "apikey": "sentiment_app.apikey_commands:apikey",
    "aws": "sentiment_app.aws.commands:aws",
}


class Main(click.Group):
    """Loads each ``lazy`` command (name → ``module:attribute``) on first use and turns the
    package's user-facing errors into one clear line and exit status 1."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.lazy, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module, attribute = self.lazy[cmd_name].split(":")
            return getattr(importlib.import_module(module), attribute)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SentimentAppError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(1)


@click.group(cls=Main, lazy=COMMANDS)
@click.version_option(package_name="sentiment-app")
def main() -> None:
    """Movie-review sentiment analysis, the SageMaker way, on one machine."""
