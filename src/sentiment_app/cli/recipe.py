"""Options of the commands that prepare and train: which data (``--max-reviews``, ``--seed``,
``--vocab-size``, ``--extra-data``) and which family and recipe (``--family``, ``--hp`` and the original recipe's own
options), every default taken from the model registry."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from sentiment_app.cli.options import MODEL_SOURCE
from sentiment_app.features.prepare import FeatureSettings
from sentiment_app.features.vocab import VOCAB_SIZE
from sentiment_app.models.registry import MODELS, SEED_MODEL, TEXT, ModelChoiceError, resolve_hyperparameters
from sentiment_app.pipeline import DataOptions

NPROC_OPTION = click.option(
    "--nproc-per-node", type=click.IntRange(min=1), default=1, show_default=True,
    help="Train with N processes under torchrun (DistributedDataParallel); --batch-size stays the global batch.")


def data_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--max-reviews``/``--seed``/``--vocab-size`` → ``options`` (a :class:`DataOptions`)."""

    @click.option("--max-reviews", type=click.IntRange(min=2), help="Use a stratified random sample of N reviews per split.")
    @click.option("--seed", type=int, default=1, show_default=True, help="Seed for sampling, shuffling and training.")
    @click.option("--vocab-size", type=click.IntRange(min=3), default=VOCAB_SIZE, show_default=True,
                  help="Word dictionary of the original recipe's features.")
    @functools.wraps(func)
    def wrapper(*args: Any, max_reviews: int | None, seed: int, vocab_size: int, **kwargs: Any) -> Any:
        options = DataOptions(max_reviews, seed, FeatureSettings(vocab_size=vocab_size))
        return func(*args, options=options, **kwargs)

    return wrapper


def extra_data_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--extra-data FILE`` → ``options.extra_data``; put it under :func:`data_options`."""

    @click.option("--extra-data", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="Labeled reviews added to the training split only (label,text rows, as "
                       "`sentiment-app feedback export` writes them).")
    @functools.wraps(func)
    def wrapper(*args: Any, options: DataOptions, extra_data: Path | None, **kwargs: Any) -> Any:
        return func(*args, options=dataclasses.replace(options, extra_data=extra_data), **kwargs)

    return wrapper


def _deprecated_model_alias(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        click.secho(f"warning: --model {value} names a family here; --model is deprecated for that, use --family {value}",
                    fg="yellow", err=True)
    return value


def family_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--family NAME`` → ``family`` (``--model NAME``, its older spelling, still works and warns)."""

    @click.option("--family", type=click.Choice(sorted(MODELS)), help=f"Model family (see `sentiment-app models`) [{SEED_MODEL}].")
    @click.option("--model", "family_alias", type=click.Choice(sorted(MODELS)), hidden=True,
                  callback=_deprecated_model_alias)
    @functools.wraps(func)
    def wrapper(*args: Any, family: str | None, family_alias: str | None, **kwargs: Any) -> Any:
        if family and family_alias and family != family_alias:
            raise click.UsageError(f"--family {family} and --model {family_alias} disagree; give --family alone")
        return func(*args, family=family or family_alias or SEED_MODEL, **kwargs)

    return wrapper


def input_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--teacher MODEL`` and ``--encoder MODEL`` → ``given_inputs``: the optional channels of the
    families that take them (``sentiment-app families``)."""

    @click.option("--teacher", type=MODEL_SOURCE,
                  help="Learn also from this model's soft labels of the unlabeled reviews (built once with a "
                       "progress bar, then cached in the store; see `sentiment-app teacher-labels`).")
    @click.option("--encoder", type=MODEL_SOURCE,
                  help="Reuse this fine-tuned encoder (trained on the same data and seed) instead of fine-tuning one.")
    @functools.wraps(func)
    def wrapper(*args: Any, teacher: str | None, encoder: str | None, **kwargs: Any) -> Any:
        return func(*args, given_inputs={"teacher": teacher, "encoder": encoder}, **kwargs)

    return wrapper


def _recipe_options() -> list[tuple[str, Any]]:
    """The original recipe's hyperparameters that have options of their own (its vocabulary is a data option)."""
    return [(key, default) for key, default in MODELS[SEED_MODEL].hyperparameters.items() if key != "vocab_size"]


def parse_hp(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    pairs = [value.partition("=") for value in values]
    if bad := [value for value, (_, eq, _) in zip(values, pairs) if not eq]:
        raise click.BadParameter(f"expected KEY=VALUE, got {bad[0]!r}", param_hint="--hp")
    return tuple((key.strip().replace("-", "_"), value) for key, _, value in pairs)


def recipe_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--family``, ``--hp KEY=VALUE`` and the original recipe's options → ``family`` and ``params``
    (the hyperparameters given), checked against the registry before any work starts."""

    @family_option
    @click.option("--hp", multiple=True, metavar="KEY=VALUE",
                  help="A hyperparameter of the family (repeatable), e.g. --family nbsvm --hp C=0.1.")
    @functools.wraps(func)
    def wrapper(*args: Any, family: str, hp: tuple[str, ...], **kwargs: Any) -> Any:
        source = click.get_current_context().get_parameter_source
        given = {key: kwargs.pop(key) for key, _ in _recipe_options()}
        given = {key: value for key, value in given.items() if source(key) != ParameterSource.DEFAULT}
        if given and MODELS[family].channel == TEXT:
            flags = ", ".join(f"--{key.replace('_', '-')}" for key in given)
            raise ModelChoiceError(f"{flags} set lstm-seed's recipe; give {family}'s "
                                   "hyperparameters as --hp KEY=VALUE (see `sentiment-app models`)")
        params = (*given.items(), *parse_hp(hp))
        resolve_hyperparameters(family, dict(params))
        return func(*args, family=family, params=params, **kwargs)

    for key, default in reversed(_recipe_options()):
        kind = click.FloatRange(min=0, min_open=True) if isinstance(default, float) else click.IntRange(min=1)
        wrapper = click.option(f"--{key.replace('_', '-')}", key, type=kind, default=default, show_default=True,
                               help=f"{SEED_MODEL}.")(wrapper)
    return wrapper
