"""The options of ``aws deploy`` beyond its model: variants (as options, or SageMaker's JSON read by the
same parser as a local endpoint's), a shadow variant, Data Capture, serverless or instance capacity
and autoscaling, read into one checked :class:`~sentiment_app.aws.deployment.EndpointPlan`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from sentiment_app.aws.deployment import (DEFAULT_MAX_CONCURRENCY, DEFAULT_MEMORY_MB, MAX_CONCURRENCY,
                                          SERVERLESS_MEMORY_MB, EndpointPlan, VariantPlan)
from sentiment_app.aws.endpoints import DEFAULT_INSTANCE_TYPE, Capacity, Capture
from sentiment_app.aws.instance_types import REALTIME
from sentiment_app.aws.locations import CAPTURE_PREFIX, S3Location
from sentiment_app.aws.scaling import DEFAULT_TARGET_INVOCATIONS, Scaling
from sentiment_app.aws.serving_model import ModelSource
from sentiment_app.cli.aws.options import AWS_MODEL_SOURCE, MODEL_TEXT, InstanceType, given, model_source
from sentiment_app.cli.options import VARIANTS_SHAPE, VariantOption, variants_document
from sentiment_app.errors import SentimentAppError
from sentiment_app.serving.variants import DEFAULT_VARIANT, VariantSpec
from sentiment_app.settings import Settings

MODEL_OPTIONS = {"model_dir": "--model", "training_job": "--training-job", "model_data": "--model-data"}


def _capacity(serverless: bool, instance_type: str, instance_count: int, memory_mb: str, max_concurrency: int) -> Capacity:
    if serverless:
        if given("instance_type", "instance_count"):
            raise SentimentAppError("A serverless endpoint runs on no instances: leave out --instance-type and "
                                    "--instance-count.")
        return Capacity(None, memory_mb=int(memory_mb), max_concurrency=max_concurrency)
    if given("memory_mb", "max_concurrency"):
        raise SentimentAppError("--memory-mb and --max-concurrency are for a --serverless endpoint.")
    return Capacity(instance_type, instance_count)


def _scaling(min_instances: int, max_instances: int | None, target_invocations: float) -> Scaling | None:
    if max_instances is None:
        if given("min_instances", "target_invocations"):
            raise SentimentAppError("--min-instances and --target-invocations set up autoscaling, "
                                    "which needs --max-instances.")
        return None
    return Scaling(min_instances, max_instances, target_invocations)


def _capture(location: S3Location, percent: int | None, uri: str | None) -> Capture | None:
    if percent is None:
        if uri:
            raise SentimentAppError("--capture-uri needs --capture-percent (the share of requests to capture).")
        return None
    return Capture(percent, uri or location.uri(CAPTURE_PREFIX))


def with_endpoint_plan(func: Callable[..., Any]) -> Callable[..., Any]:
    """The capacity, variant, capture and scaling options → ``plan``; put it under the decorators that
    pass ``settings``, ``source`` and ``location`` (the plan's default variant is ``source``)."""

    @click.option("--instance-type", type=InstanceType(REALTIME, "endpoints"), default=DEFAULT_INSTANCE_TYPE,
                  show_default=True)
    @click.option("--instance-count", type=click.IntRange(min=1), default=1, show_default=True,
                  help="Instances per variant (autoscaling starts from it).")
    @click.option("--serverless", is_flag=True,
                  help="Serverless Inference: no instances, billed per request, nothing while idle.")
    @click.option("--memory-mb", type=click.Choice([str(m) for m in SERVERLESS_MEMORY_MB]),
                  default=str(DEFAULT_MEMORY_MB), show_default=True, help="Memory of a serverless endpoint.")
    @click.option("--max-concurrency", type=click.IntRange(1, MAX_CONCURRENCY), default=DEFAULT_MAX_CONCURRENCY,
                  show_default=True, help="Concurrent requests a serverless endpoint serves (more are throttled).")
    @click.option("--min-instances", type=click.IntRange(min=1), default=1, show_default=True,
                  help="Autoscaling: the fewest instances per variant.")
    @click.option("--max-instances", type=click.IntRange(min=1),
                  help="Autoscaling: the most instances per variant (turns autoscaling on).")
    @click.option("--target-invocations", type=click.FloatRange(min=0, min_open=True),
                  default=DEFAULT_TARGET_INVOCATIONS, show_default=True,
                  help="Autoscaling: invocations per instance per minute to hold.")
    @click.option("--variant", "variants", multiple=True, type=VariantOption(model_type=AWS_MODEL_SOURCE),
                  help=f"A production variant (repeatable) instead of --model: MODEL is {MODEL_TEXT}; requests "
                       "are shared by the weights (after the last colon; default 1).")
    @click.option("--shadow-variant", "shadows", multiple=True,
                  type=VariantOption(shadow=True, model_type=AWS_MODEL_SOURCE),
                  help="A shadow variant: gets a copy of every request; its answers never reach the caller.")
    @click.option("--variants", "variants_file", metavar="FILE",
                  type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help=f"All the variants as SageMaker's JSON instead of --variant and --shadow-variant: "
                       f"{VARIANTS_SHAPE}, ModelName as MODEL of --variant.")
    @click.option("--capture-percent", type=click.IntRange(1, 100),
                  help="Data Capture: the percentage of requests (and answers) written to S3.")
    @click.option("--capture-uri", metavar="S3URI",
                  help=f"Data Capture destination [s3://<bucket>/<prefix>/{CAPTURE_PREFIX}].")
    @functools.wraps(func)
    def wrapper(*args: Any, settings: Settings, source: ModelSource, location: S3Location,
                instance_type: str, instance_count: int, serverless: bool, memory_mb: str, max_concurrency: int,
                min_instances: int, max_instances: int | None, target_invocations: float,
                variants: tuple[VariantSpec, ...], shadows: tuple[VariantSpec, ...], variants_file: Path | None,
                capture_percent: int | None, capture_uri: str | None, **kwargs: Any) -> Any:
        if variants_file is not None:
            if variants or shadows:
                raise SentimentAppError("--variants FILE holds all the variants: leave out --variant and "
                                        "--shadow-variant.")
            document = variants_document(variants_file, click.get_current_context(), AWS_MODEL_SOURCE)
            variants, shadows = document.production, document.shadows
        explicit = given(*MODEL_OPTIONS)
        if variants and explicit:
            raise SentimentAppError(f"{'--variants' if variants_file else '--variant'} names every production "
                                    "variant's model: leave out "
                                    + ", ".join(MODEL_OPTIONS[name] for name in explicit) + ".")

        def planned(spec: VariantSpec) -> VariantPlan:
            return VariantPlan(spec.name, model_source(settings, str(spec.model)), spec.weight)

        plan = EndpointPlan(tuple(map(planned, variants)) or (VariantPlan(DEFAULT_VARIANT, source),),
                            _capacity(serverless, instance_type, instance_count, memory_mb, max_concurrency),
                            tuple(map(planned, shadows)),
                            _capture(location, capture_percent, capture_uri),
                            _scaling(min_instances, max_instances, target_invocations))
        return func(*args, location=location, plan=plan, **kwargs)

    return wrapper
