"""Options shared by the commands: where things live (``--home``, ``--data``, ``--store``) and which
trained model (``--model``). Light to import: the training options are in :mod:`.recipe`."""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from sentiment_app.errors import SentimentAppError
from sentiment_app.serving.variants import EndpointConfig, VariantSpec
from sentiment_app.settings import Settings, load_settings


class ModelSource(click.ParamType):
    """``--model``: a registry version (``3`` or ``v3``), a model directory, a ``model.tar.gz``, or the
    ``s3://`` URI of one (what SageMaker calls a model's ModelDataUrl), or a bundled model
    (``bundled``, or its name: ``lstm-seed``); local paths must exist, a version is looked up and an
    S3 object checked when used."""

    name = "MODEL"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        # torch loads only when a model is named
        from sentiment_app.artifacts.locate import bundled_name
        from sentiment_app.artifacts.versions import version_number

        if str(value).startswith("s3://") or version_number(value) is not None or bundled_name(value) is not None:
            return str(value)
        return click.Path(exists=True).convert(value, param, ctx)


MODEL_SOURCE = ModelSource()
MODEL_HELP = ("Registry version (3 or v3), model directory, model.tar.gz or its s3:// URI, or a bundled model "
              "(bundled, lstm-seed) [default: the newest approved version, else the bundled model].")


class VariantOption(click.ParamType):
    """``--variant NAME=MODEL:WEIGHT`` (or, for a shadow, ``NAME=MODEL``), MODEL any model source
    (``model_type`` checks it: ``aws deploy`` also takes a training job)."""

    def __init__(self, shadow: bool = False, model_type: click.ParamType = MODEL_SOURCE) -> None:
        self.shadow = shadow
        self.model_type = model_type
        self.name = "NAME=MODEL" if shadow else "NAME=MODEL:WEIGHT"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> VariantSpec:
        if isinstance(value, VariantSpec):
            return value
        try:
            spec = VariantSpec.parse(str(value), self.shadow)
        except SentimentAppError as exc:
            self.fail(str(exc), param, ctx)
        return dataclasses.replace(spec, model=self.model_type.convert(spec.model, param, ctx))


VARIANTS_SHAPE = ('{"ProductionVariants": [{"VariantName", "ModelName", "InitialVariantWeight"}], '
                  '"ShadowProductionVariants": [...]}')
"""The ``--variants FILE`` document: SageMaker's endpoint configuration shape."""


def variants_document(path: Path, ctx: click.Context, model_type: click.ParamType = MODEL_SOURCE) -> EndpointConfig:
    """``--variants FILE`` read and checked, each ModelName by ``model_type`` (as ``--variant`` checks MODEL)."""
    try:
        config = EndpointConfig.from_document(json.loads(path.read_text(encoding="utf-8")), str(path))
    except (OSError, ValueError, SentimentAppError) as exc:
        raise click.BadParameter(str(exc), ctx, param_hint="--variants") from None
    for spec in (*config.production, *config.shadows):
        try:
            model_type.convert(spec.model, None, ctx)
        except click.BadParameter as exc:
            raise click.BadParameter(f"{path}, variant {spec.name}: {exc.message}", ctx, param_hint="--variants") from None
    return config


def with_variants(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--model``, ``--variant``, ``--variants FILE`` and ``--shadow-variant``; pass ``config``,
    the endpoint's variants with their model sources (not yet resolved to folders)."""

    @click.option("--model", type=MODEL_SOURCE, help=MODEL_HELP)
    @click.option("--variant", "variants", multiple=True, type=VariantOption(),
                  help="A production variant instead of --model (repeatable): MODEL as for --model, the weight after "
                       "the last colon (relative; default 1).")
    @click.option("--variants", "variants_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help=f"Variants as SageMaker's JSON: {VARIANTS_SHAPE}, ModelName as for --model.")
    @click.option("--shadow-variant", "shadows", multiple=True, type=VariantOption(shadow=True),
                  help="A shadow variant (repeatable): it scores a copy of every request after the answer has left; "
                       "its answers are compared and logged, never returned.")
    @functools.wraps(func)
    def wrapper(*args: Any, model: str | None, variants: tuple[VariantSpec, ...], variants_file: Path | None,
                shadows: tuple[VariantSpec, ...], **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        if variants_file is not None and (variants or shadows or model):
            raise click.UsageError("--variants FILE holds all the variants: give no --model, --variant or --shadow-variant.")
        if variants and model:
            raise click.UsageError("Give either --model or --variant, not both.")
        try:
            config = (variants_document(variants_file, ctx) if variants_file is not None
                      else EndpointConfig(variants or EndpointConfig.single(model).production, shadows))
        except SentimentAppError as exc:
            raise click.UsageError(str(exc)) from None
        return func(*args, config=config, **kwargs)

    return wrapper


def capture_percent_option(default: float = 0.0) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--capture-percent``: ``serve`` keeps every review by default, so the page's feedback can be
    joined to it; the endpoint commands capture nothing unless asked."""
    return click.option(
        "--capture-percent", type=click.FloatRange(0, 100), default=default, show_default=True,
        help="Data Capture: the share of invocations (0-100 %) whose request and answer are kept in the store "
             "under datacapture/<endpoint>/<variant>/; 0 is off.")


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
