"""Endpoint lifecycle on SageMaker: config + endpoint on top of models, traffic weights, and removal.

A config holds production variants (each a model with a traffic weight, on instances or serverless),
at most one shadow variant (a copy of the production variant's requests goes to it; its answers are
only logged) and optionally Data Capture (a sample of requests and answers written to S3 as JSON
Lines under ``<destination>/<endpoint>/<variant>/yyyy/mm/dd/hh/``).

Removal follows the contract's order: autoscaling (policy, then scalable target) → DeleteEndpoint
(stops the billing) → DeleteEndpointConfig → DeleteModel; each call removes only its own resource,
never the S3 artifacts or the role.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from sentiment_app.aws.inventory import PROJECT_TAGS, variants_of
from sentiment_app.aws.scaling import remove_autoscaling
from sentiment_app.aws.session import Aws, not_found
from sentiment_app.errors import SentimentAppError
from sentiment_app.inference.handler import CSV, JSON
from sentiment_app.serving.variants import check_weights

DEFAULT_INSTANCE_TYPE = "ml.m5.large"


@dataclass(frozen=True)
class Capacity:
    """What every variant runs on: ``instance_count`` × ``instance_type``, or, with ``memory_mb``,
    serverless compute that SageMaker starts per request (no instances, nothing billed while idle)."""

    instance_type: str | None = DEFAULT_INSTANCE_TYPE
    instance_count: int = 1
    memory_mb: int | None = None
    max_concurrency: int | None = None

    @property
    def serverless(self) -> bool:
        return self.memory_mb is not None

    def variant_fields(self) -> dict[str, Any]:
        if self.serverless:
            return {"ServerlessConfig": {"MemorySizeInMB": self.memory_mb, "MaxConcurrency": self.max_concurrency}}
        return {"InitialInstanceCount": self.instance_count, "InstanceType": self.instance_type}


@dataclass(frozen=True)
class Capture:
    """Data Capture: ``percent`` of the requests, with their answers, written under ``destination``."""

    percent: int
    destination: str

    def request(self) -> dict[str, Any]:
        return {"EnableCapture": True, "InitialSamplingPercentage": self.percent, "DestinationS3Uri": self.destination,
                "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
                # bodies of these types are stored as text (CSV/JSON), any other as base64
                "CaptureContentTypeHeader": {"CsvContentTypes": [CSV], "JsonContentTypes": [JSON]}}


@dataclass(frozen=True)
class Variant:
    """One variant of the config: its name, SageMaker model and traffic weight."""

    name: str
    model: str
    weight: float = 1.0


def endpoint_config_request(config: str, variants: Sequence[Variant], capacity: Capacity,
                            shadows: Sequence[Variant] = (), capture: Capture | None = None) -> dict[str, Any]:
    """The CreateEndpointConfig arguments."""
    def variant(v: Variant) -> dict[str, Any]:
        return {"VariantName": v.name, "ModelName": v.model, **capacity.variant_fields(), "InitialVariantWeight": v.weight}

    request: dict[str, Any] = {"EndpointConfigName": config, "ProductionVariants": [variant(v) for v in variants]}
    if shadows:
        request["ShadowProductionVariants"] = [variant(v) for v in shadows]
    if capture:
        request["DataCaptureConfig"] = capture.request()
    return {**request, "Tags": PROJECT_TAGS}


def create_endpoint(aws: Aws, endpoint: str, config_request: dict[str, Any]) -> list[dict[str, Any]]:
    """CreateEndpointConfig → CreateEndpoint (the models must exist); returns the requests sent."""
    aws.sagemaker.create_endpoint_config(**config_request)
    endpoint_request = {"EndpointName": endpoint, "EndpointConfigName": config_request["EndpointConfigName"],
                        "Tags": PROJECT_TAGS}
    aws.sagemaker.create_endpoint(**endpoint_request)
    return [config_request, endpoint_request]


def update_weights(aws: Aws, endpoint: str, weights: dict[str, float]) -> dict[str, float]:
    """UpdateEndpointWeightsAndCapacities for the named production variants, checked against the
    endpoint's variants first; returns every variant's weight after the change."""
    description = aws.sagemaker.describe_endpoint(EndpointName=endpoint)
    current = {v["VariantName"]: v.get("CurrentWeight", 0.0) for v in description.get("ProductionVariants", [])}
    if not current:
        raise SentimentAppError(f"Endpoint {endpoint} has no variants in service yet (it is "
                                f"{description['EndpointStatus']}); try again when it is InService.")
    unknown = [name for name in weights if name not in current]
    if unknown:
        raise SentimentAppError(f"Endpoint {endpoint} has no variant {', '.join(unknown)}; "
                                f"its variants are {', '.join(current)}.")
    after = {**current, **weights}
    check_weights(after)
    aws.sagemaker.update_endpoint_weights_and_capacities(
        EndpointName=endpoint,
        DesiredWeightsAndCapacities=[{"VariantName": name, "DesiredWeight": weight} for name, weight in weights.items()])
    return after


def delete_config_and_models(aws: Aws, config: str) -> list[str]:
    """DeleteEndpointConfig, then DeleteModel for each of its variants' models (shadows included)."""
    models = [v["ModelName"] for v in variants_of(aws.sagemaker.describe_endpoint_config(EndpointConfigName=config))]
    aws.sagemaker.delete_endpoint_config(EndpointConfigName=config)
    removed = [f"endpoint-config {config}"]
    for model in dict.fromkeys(models):
        try:
            aws.sagemaker.delete_model(ModelName=model)
            removed.append(f"model {model}")
        except ClientError as exc:
            if not not_found(exc):
                raise
    return removed


def delete_endpoint(aws: Aws, endpoint: str) -> list[str]:
    """Autoscaling → DeleteEndpoint → DeleteEndpointConfig → DeleteModel; returns what was removed, in order."""
    config = aws.sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    removed = remove_autoscaling(aws.autoscaling, endpoint)
    aws.sagemaker.delete_endpoint(EndpointName=endpoint)
    removed.append(f"endpoint {endpoint}")
    try:
        removed += delete_config_and_models(aws, config)
    except ClientError as exc:
        if not not_found(exc):
            raise
    return removed
