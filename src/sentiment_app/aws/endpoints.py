"""Endpoint lifecycle on SageMaker: config + endpoint on top of a model, and removal in order.

Removal follows the contract's order: DeleteEndpoint (stops the billing) → DeleteEndpointConfig →
DeleteModel; each call removes only its own resource, never the S3 artifacts or the role.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from sentiment_app.aws.inventory import PROJECT_TAGS
from sentiment_app.aws.session import Aws

VARIANT = "AllTraffic"


def create_endpoint(aws: Aws, endpoint: str, config: str, model: str, instance_type: str,
                    instance_count: int = 1) -> list[dict[str, Any]]:
    """CreateEndpointConfig → CreateEndpoint (the model must exist); returns the requests sent."""
    config_request = {
        "EndpointConfigName": config,
        "ProductionVariants": [{"VariantName": VARIANT, "ModelName": model, "InitialInstanceCount": instance_count,
                                "InstanceType": instance_type, "InitialVariantWeight": 1.0}],
        "Tags": PROJECT_TAGS,
    }
    aws.sagemaker.create_endpoint_config(**config_request)
    endpoint_request = {"EndpointName": endpoint, "EndpointConfigName": config, "Tags": PROJECT_TAGS}
    aws.sagemaker.create_endpoint(**endpoint_request)
    return [config_request, endpoint_request]


def _missing(exc: ClientError) -> bool:
    """SageMaker answers ``ValidationException`` ("Could not find ...") for a resource that is gone."""
    return exc.response.get("Error", {}).get("Code") in ("ValidationException", "ResourceNotFound")


def delete_config_and_models(aws: Aws, config: str) -> list[str]:
    """DeleteEndpointConfig, then DeleteModel for each of its variants' models."""
    models = [v["ModelName"] for v in aws.sagemaker.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"]]
    aws.sagemaker.delete_endpoint_config(EndpointConfigName=config)
    removed = [f"endpoint-config {config}"]
    for model in dict.fromkeys(models):
        try:
            aws.sagemaker.delete_model(ModelName=model)
            removed.append(f"model {model}")
        except ClientError as exc:
            if not _missing(exc):
                raise
    return removed


def delete_endpoint(aws: Aws, endpoint: str) -> list[str]:
    """DeleteEndpoint → DeleteEndpointConfig → DeleteModel; returns what was removed, in order."""
    config = aws.sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    aws.sagemaker.delete_endpoint(EndpointName=endpoint)
    removed = [f"endpoint {endpoint}"]
    try:
        removed += delete_config_and_models(aws, config)
    except ClientError as exc:
        if not _missing(exc):
            raise
    return removed
