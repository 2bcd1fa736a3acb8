"""Autoscaling of an instance endpoint's variants with Application Auto Scaling.

Each production variant is a scalable target (``endpoint/<name>/variant/<variant>``, dimension
``sagemaker:variant:DesiredInstanceCount``) with one target-tracking policy on
``SageMakerVariantInvocationsPerInstance`` (invocations per instance per minute). A target outlives
its endpoint unless removed, so removal (policy, then target) comes before DeleteEndpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sentiment_app.aws.inventory import TAG_KEY, TAG_VALUE, Resource
from sentiment_app.errors import SentimentAppError

NAMESPACE = "sagemaker"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"
METRIC = "SageMakerVariantInvocationsPerInstance"
POLICY = "sentiment-app-invocations"
DEFAULT_TARGET_INVOCATIONS = 70.0  # per instance per minute: the value AWS's own examples start from
SCALE_IN_COOLDOWN_S = 300  # slow to remove instances, quick to add them
SCALE_OUT_COOLDOWN_S = 60


@dataclass(frozen=True)
class Scaling:
    """Bounds on each production variant's instances, and the load each instance should carry."""

    min_instances: int
    max_instances: int
    target_invocations: float = DEFAULT_TARGET_INVOCATIONS

    def __post_init__(self) -> None:
        if not 1 <= self.min_instances <= self.max_instances:
            raise SentimentAppError(f"Autoscaling needs 1 <= --min-instances <= --max-instances, got "
                                    f"{self.min_instances} and {self.max_instances}")
        if self.target_invocations <= 0:
            raise SentimentAppError(f"--target-invocations must be above 0, got {self.target_invocations}")


def resource_id(endpoint: str, variant: str) -> str:
    return f"endpoint/{endpoint}/variant/{variant}"


def scaling_requests(endpoint: str, variant: str, scaling: Scaling) -> tuple[dict[str, Any], dict[str, Any]]:
    """The RegisterScalableTarget and PutScalingPolicy arguments for one variant."""
    target = {"ServiceNamespace": NAMESPACE, "ResourceId": resource_id(endpoint, variant), "ScalableDimension": DIMENSION}
    register = {**target, "MinCapacity": scaling.min_instances, "MaxCapacity": scaling.max_instances,
                "Tags": {TAG_KEY: TAG_VALUE}}
    policy = {**target, "PolicyName": POLICY, "PolicyType": "TargetTrackingScaling",
              "TargetTrackingScalingPolicyConfiguration": {
                  "TargetValue": scaling.target_invocations,
                  "PredefinedMetricSpecification": {"PredefinedMetricType": METRIC},
                  "ScaleInCooldown": SCALE_IN_COOLDOWN_S, "ScaleOutCooldown": SCALE_OUT_COOLDOWN_S}}
    return register, policy


def register_autoscaling(client: Any, endpoint: str, variants: list[str], scaling: Scaling) -> list[dict[str, Any]]:
    """Register every variant as a scalable target with its policy (the endpoint must be InService)."""
    sent = []
    for variant in variants:
        register, policy = scaling_requests(endpoint, variant, scaling)
        client.register_scalable_target(**register)
        client.put_scaling_policy(**policy)
        sent += [register, policy]
    return sent


def _targets(client: Any, endpoint: str) -> list[dict[str, Any]]:
    prefix = resource_id(endpoint, "")
    return [target for page in client.get_paginator("describe_scalable_targets").paginate(ServiceNamespace=NAMESPACE)
            for target in page["ScalableTargets"] if target["ResourceId"].startswith(prefix)]


def _policies(client: Any, target: dict[str, Any]) -> list[dict[str, Any]]:
    pages = client.get_paginator("describe_scaling_policies").paginate(
        ServiceNamespace=NAMESPACE, ResourceId=target["ResourceId"], ScalableDimension=target["ScalableDimension"])
    return [policy for page in pages for policy in page["ScalingPolicies"]]


def describe_autoscaling(client: Any, endpoint: str) -> list[dict[str, Any]]:
    """Per scaled variant: its bounds and the target value of its target-tracking policies."""
    found = []
    for target in _targets(client, endpoint):
        targets = [p["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] for p in _policies(client, target)
                   if p.get("TargetTrackingScalingPolicyConfiguration")]
        found.append({"variant": target["ResourceId"].rpartition("/")[2], "min_instances": target["MinCapacity"],
                      "max_instances": target["MaxCapacity"], "target_invocations": targets[0] if targets else None})
    return found


def with_autoscaling(client: Any, resources: list[Resource]) -> list[Resource]:
    """``resources`` with each endpoint's autoscaling filled in (for status)."""
    for resource in resources:
        if resource.kind == "endpoint":
            resource.scaling = describe_autoscaling(client, resource.name)
    return resources


def remove_autoscaling(client: Any, endpoint: str) -> list[str]:
    """DeleteScalingPolicy for each policy, then DeregisterScalableTarget, for every variant of ``endpoint``."""
    removed = []
    for target in _targets(client, endpoint):
        for policy in _policies(client, target):
            client.delete_scaling_policy(PolicyName=policy["PolicyName"], ServiceNamespace=NAMESPACE,
                                         ResourceId=target["ResourceId"], ScalableDimension=target["ScalableDimension"])
            removed.append(f"scaling-policy {policy['PolicyName']} ({target['ResourceId']})")
        client.deregister_scalable_target(ServiceNamespace=NAMESPACE, ResourceId=target["ResourceId"],
                                          ScalableDimension=target["ScalableDimension"])
        removed.append(f"scalable-target {target['ResourceId']}")
    return removed
