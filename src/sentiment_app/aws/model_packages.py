"""SageMaker's Model Registry: a model package group, and a model package per registered model.

A model package records a deployable model: the serving image and ``model.tar.gz``, the content
types it takes and answers, where it runs, and an approval status (the same three values as the
local registry, :mod:`sentiment_app.artifacts.versions`). A model that is a local registry version
carries that version's family, fingerprints and metrics as customer metadata.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from sentiment_app.aws.inventory import PROJECT_TAGS
from sentiment_app.aws.serving_model import serving_environment
from sentiment_app.aws.session import Aws, not_found
from sentiment_app.inference.handler import REQUEST_TYPES, RESPONSE_TYPES

DEFAULT_GROUP = "sentiment-app"
MAX_METADATA_VALUE = 256  # SageMaker's limit on one customer metadata value


def ensure_group(aws: Aws, group: str) -> bool:
    """Create the model package group unless it exists; whether it was created."""
    try:
        aws.sagemaker.describe_model_package_group(ModelPackageGroupName=group)
        return False
    except ClientError as exc:
        if not not_found(exc):
            raise
    aws.sagemaker.create_model_package_group(ModelPackageGroupName=group, Tags=PROJECT_TAGS,
                                             ModelPackageGroupDescription="IMDB sentiment models (sentiment-app)")
    return True


def _flat(values: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested figures as ``a.b`` keys with string values (the only kind customer metadata holds)."""
    flat: dict[str, str] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        elif value is not None:
            flat[f"{prefix}{key}"] = (f"{value:.6g}" if isinstance(value, float) else str(value))[:MAX_METADATA_VALUE]
    return flat


def version_metadata(version: dict[str, Any]) -> dict[str, str]:
    """A local registry version as CustomerMetadataProperties: what it is and how it measured."""
    return _flat({"registry_version": version["version"], "family": version["family"],
                  "model_version": version["model_version"], "data_fingerprint": version["data_fingerprint"],
                  **version["metrics"]})


def model_package_request(group: str, image: str, model_data: str, region: str, realtime_types: Sequence[str],
                          transform_types: Sequence[str], status: str, description: str,
                          metadata: dict[str, str]) -> dict[str, Any]:
    """The CreateModelPackage arguments: a versioned package in ``group`` that runs on ``realtime_types``
    behind endpoints and on ``transform_types`` in batch transform (two lists: the service's own)."""
    request: dict[str, Any] = {
        "ModelPackageGroupName": group,
        "ModelPackageDescription": description,
        "InferenceSpecification": {
            "Containers": [{"Image": image, "ModelDataUrl": model_data, "Environment": serving_environment(region)}],
            "SupportedContentTypes": list(REQUEST_TYPES),
            "SupportedResponseMIMETypes": list(RESPONSE_TYPES),
            "SupportedRealtimeInferenceInstanceTypes": list(realtime_types),
            "SupportedTransformInstanceTypes": list(transform_types),
        },
        "ModelApprovalStatus": status,
        "Tags": PROJECT_TAGS,
    }
    if metadata:
        request["CustomerMetadataProperties"] = metadata
    return request


def create_model_package(aws: Aws, request: dict[str, Any]) -> str:
    """CreateModelPackage; the new package's ARN (its version number is the last path segment)."""
    return aws.sagemaker.create_model_package(**request)["ModelPackageArn"]
