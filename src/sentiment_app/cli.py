"""``sentiment-app``: one thin command layer over the pipeline, serving and lifecycle modules."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import click

from sentiment_app.errors import SentimentAppError
from sentiment_app.settings import Settings, load_settings


def with_settings(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--home``/``--data`` and pass the resolved ``settings`` to the command."""

    @click.option("--home", type=click.Path(file_okay=False), help="Root of the store and caches [SENTIMENT_APP_HOME].")
    @click.option("--data", type=click.Path(exists=True), help="Local IMDB data: archive, aclImdb/ or CSV pair [SENTIMENT_APP_DATA].")
    @functools.wraps(func)
    def wrapper(*args: Any, home: str | None, data: str | None, **kwargs: Any) -> Any:
        return func(*args, settings=load_settings(home=home, data=data), **kwargs)

    return wrapper


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


__all__ = ["main", "with_settings", "Settings"]
