"""boto3 clients with the standard region and endpoint resolution, and AWS errors as one line.

Endpoints come from boto3 itself (``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_SAGEMAKER``, ...), so
every command can be pointed at a local AWS-API server without an option of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from sentiment_app.errors import SentimentAppError


@dataclass
class Aws:
    """One boto3 session in one region; clients are created once and shared."""

    region: str
    session: boto3.Session = field(repr=False)
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service, region_name=self.region)
        return self._clients[service]

    @property
    def sagemaker(self) -> Any:
        return self.client("sagemaker")

    @property
    def runtime(self) -> Any:
        return self.client("sagemaker-runtime")

    @property
    def autoscaling(self) -> Any:
        return self.client("application-autoscaling")


def connect(region: str | None = None) -> Aws:
    """A session in ``region``, else the region boto3 resolves (``AWS_REGION``, config files)."""
    session = boto3.Session(region_name=region) if region else boto3.Session()
    resolved = region or session.region_name
    if not resolved:
        raise SentimentAppError("No AWS region: pass --region, set AWS_DEFAULT_REGION or a region in ~/.aws/config.")
    return Aws(resolved, session)


def not_found(exc: ClientError) -> bool:
    """SageMaker answers ``ValidationException`` ("Could not find ...") for a resource that is not there."""
    return exc.response.get("Error", {}).get("Code") in ("ValidationException", "ResourceNotFound")


def describe_error(exc: Exception) -> str:
    """``ClientError`` → ``"CreateModel: ValidationException: message"``; other botocore errors as is."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{exc.operation_name}: {error.get('Code', 'Error')}: {error.get('Message', '').strip()}"
    return str(exc)


@contextmanager
def aws_errors() -> Iterator[None]:
    """Turn botocore's errors (service, credentials, connection) into a ``SentimentAppError``."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise SentimentAppError(f"AWS {describe_error(exc)}") from exc
