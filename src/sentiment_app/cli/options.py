"""Options shared by the commands: where things live (``--home``, ``--data``, ``--store``) and which
trained model (``--model``). Light to import: the training options are in :mod:`.recipe`."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import click

from sentiment_app.settings import Settings, load_settings


class ModelSource(click.ParamType):
    """``--model``: a registry version (``3`` or ``v3``), a model directory, a ``model.tar.gz``, or the
    ``s3://`` URI of one (what SageMaker calls a model's ModelDataUrl); local paths must exist, a
    version is looked up and an S3 object checked when used."""

    name = "MODEL"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from sentiment_app.artifacts.versions import version_number  # torch loads only when a model is named

        if str(value).startswith("s3://") or version_number(value) is not None:
            return str(value)
        return click.Path(exists=True).convert(value, param, ctx)


MODEL_SOURCE = ModelSource()
MODEL_HELP = ("Registry version (3 or v3), model directory, model.tar.gz or its s3:// URI "
              "[default: the newest approved version, else the bundled model].")


def with_settings(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--home``/``--data`` and pass the resolved ``settings`` to the command."""

    @click.option("--home", type=click.Path(file_okay=False), help="Root of the store and caches [SENTIMENT_APP_HOME].")
    @click.option("--data", type=click.Path(exists=True),
                  help="Local IMDB data: archive, aclImdb/ or CSV pair [SENTIMENT_APP_DATA; else what the home "
                       "was prepared from].")
    @functools.wraps(func)
    def wrapper(*args: Any, home: str | None, data: str | None, **kwargs: Any) -> Any:
        return func(*args, settings=load_settings(home=home, data=data), **kwargs)

    return wrapper


def with_store(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--store URI``; put it under ``@with_settings``, whose ``settings`` it overrides."""

    @click.option("--store", "store_uri", metavar="URI",
                  help="Artifact store: a folder or s3://bucket/prefix [SENTIMENT_APP_STORE; default: <home>/store].")
    @functools.wraps(func)
    def wrapper(*args: Any, settings: Settings, store_uri: str | None, **kwargs: Any) -> Any:
        if store_uri:
            settings = dataclasses.replace(settings, store_uri=store_uri)
        return func(*args, settings=settings, **kwargs)

    return wrapper



def with_home(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--home`` alone → ``settings`` (for commands that need local models but no data set)."""

    @click.option("--home", type=click.Path(file_okay=False), help="Where local models live [SENTIMENT_APP_HOME].")
    @functools.wraps(func)
    def wrapper(*args: Any, home: str | None, **kwargs: Any) -> Any:
        return func(*args, settings=load_settings(home=home), **kwargs)

    return wrapper

JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object (last line).")
