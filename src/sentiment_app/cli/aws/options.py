"""Click options shared by the ``aws`` commands, and the checks on what users type into them."""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable
from typing import Any

import click
from click.core import ParameterSource

from sentiment_app.cli.options import MODEL_HELP, MODEL_SOURCE
from sentiment_app.aws.instance_types import supported
from sentiment_app.aws.locations import S3Location
from sentiment_app.aws.serving_model import ModelSource
from sentiment_app.errors import SentimentAppError
from sentiment_app.artifacts.locate import resolve_model_dir
from sentiment_app.settings import Settings

ENV_ROLE = "SENTIMENT_APP_SAGEMAKER_ROLE"
ENV_BUCKET = "SENTIMENT_APP_BUCKET"
ENV_POLL = "SENTIMENT_APP_AWS_POLL_SECONDS"
_ROLE = re.compile(r"arn:aws[a-z-]*:iam::[0-9]{12}:role/\S+")
TRAINING_JOB_PREFIX = "training-job:"
MODEL_TEXT = ("a registry version (3 or v3), a model folder or model.tar.gz, an s3:// model.tar.gz, "
              f"or {TRAINING_JOB_PREFIX}NAME (a finished SageMaker training job)")

region_option = click.option("--region", help="AWS region [boto3's resolution: AWS_DEFAULT_REGION, ~/.aws/config].")
image_option = click.option("--image", help="Container image URI [the AWS PyTorch DLC for the region and instance type].")
poll_option = click.option("--poll", type=click.FloatRange(min=0), default=15.0, show_default=True, envvar=ENV_POLL,
                           help=f"Seconds between status checks while waiting [{ENV_POLL}].")


def with_location(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--bucket``/``--prefix`` → ``location`` (an :class:`S3Location`)."""

    @click.option("--bucket", envvar=ENV_BUCKET, help=f"S3 bucket name or s3://bucket/prefix [{ENV_BUCKET}].")
    @click.option("--prefix", help="Key prefix in the bucket [sentiment-app].")
    @functools.wraps(func)
    def wrapper(*args: Any, bucket: str | None, prefix: str | None, **kwargs: Any) -> Any:
        return func(*args, location=S3Location.parse(bucket, prefix), **kwargs)

    return wrapper


def with_role(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--role`` → ``role``: the execution role SageMaker assumes to read S3 and write logs."""

    @click.option("--role", envvar=ENV_ROLE, help=f"SageMaker execution role ARN [{ENV_ROLE}].")
    @functools.wraps(func)
    def wrapper(*args: Any, role: str | None, **kwargs: Any) -> Any:
        if not role:
            raise SentimentAppError(f"No SageMaker execution role: pass --role ARN or set {ENV_ROLE}.")
        if not _ROLE.fullmatch(role):
            raise SentimentAppError(f"--role must be an IAM role ARN (arn:aws:iam::<account>:role/<name>), got {role!r}")
        return func(*args, role=role, **kwargs)

    return wrapper


def with_model_source(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--model``/``--training-job``/``--model-data`` → ``source`` (default: the newest approved version,
    else the bundled model);
    put it under a decorator that passes ``settings``."""

    @click.option("--model", "model_dir", type=MODEL_SOURCE, help=MODEL_HELP)
    @click.option("--training-job", help="Use the model.tar.gz of this finished SageMaker training job.")
    @click.option("--model-data", metavar="S3URI", help="Use this s3:// model.tar.gz.")
    @functools.wraps(func)
    def wrapper(*args: Any, settings: Settings, model_dir: str | None, training_job: str | None,
                model_data: str | None, **kwargs: Any) -> Any:
        local = resolve_model_dir(settings, model_dir) if model_dir or not (training_job or model_data) else None
        return func(*args, settings=settings, source=ModelSource(local, training_job, model_data), **kwargs)

    return wrapper


class AwsModelSource(click.ParamType):
    """A model as one word (:data:`MODEL_TEXT`): what ``--model`` takes, or ``training-job:NAME``."""

    name = "MODEL"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        return value if str(value).startswith(TRAINING_JOB_PREFIX) else MODEL_SOURCE.convert(value, param, ctx)


AWS_MODEL_SOURCE = AwsModelSource()


class InstanceType(click.ParamType):
    """An instance type SageMaker takes for one use (``shape``: see :mod:`sentiment_app.aws.instance_types`),
    so a type the service would refuse stops the command before anything is created."""

    name = "TYPE"

    def __init__(self, shape: str, use: str) -> None:
        self.shape, self.use = shape, use

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        known = supported(self.shape)
        if value in known:
            return str(value)
        near = difflib.get_close_matches(str(value), sorted(known), n=3)
        self.fail(f"SageMaker takes no {value!r} for {self.use}"
                  + (f"; close ones it takes: {', '.join(near)}" if near else ""), param, ctx)


def model_source(settings: Settings, text: str) -> ModelSource:
    """One word naming a model (checked by :class:`AwsModelSource`) → where it comes from."""
    if text.startswith("s3://"):
        return ModelSource(model_data=text)
    if text.startswith(TRAINING_JOB_PREFIX):
        return ModelSource(training_job=text.removeprefix(TRAINING_JOB_PREFIX))
    return ModelSource(resolve_model_dir(settings, text))


def given(*names: str) -> list[str]:
    """The parameters of the running command that were set (on the command line or by environment)."""
    ctx = click.get_current_context()
    return [name for name in names if ctx.get_parameter_source(name) not in (None, ParameterSource.DEFAULT)]
