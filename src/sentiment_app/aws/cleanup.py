"""Removing everything the project created, in the contract's order.

Endpoints go first (they bill), each after its autoscaling (policy, then scalable target), then
endpoint configs, then models; running jobs are stopped.
Finished jobs cannot be deleted through the API (they stay in the account's history and cost
nothing), so they are reported, not removed. The objects under an S3 location are removed on their
own, for a run that keeps all of its files under one prefix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sentiment_app.aws.inventory import Resource
from sentiment_app.aws.locations import S3Location
from sentiment_app.aws.scaling import remove_autoscaling

DELETE = {
    "endpoint": ("delete_endpoint", "EndpointName"),
    "endpoint-config": ("delete_endpoint_config", "EndpointConfigName"),
    "model": ("delete_model", "ModelName"),
}
STOP = {
    "training-job": ("stop_training_job", "TrainingJobName"),
    "transform-job": ("stop_transform_job", "TransformJobName"),
}


@dataclass
class CleanupReport:
    deleted: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def cleanup(sm: Any, autoscaling: Any, resources: list[Resource]) -> CleanupReport:
    """Delete endpoints (autoscaling first) → configs → models and stop running jobs, among
    ``resources`` only."""
    report = CleanupReport()
    for kind in DELETE:
        operation, param = DELETE[kind]
        for resource in (r for r in resources if r.kind == kind):
            if kind == "endpoint":
                report.deleted += remove_autoscaling(autoscaling, resource.name)
            getattr(sm, operation)(**{param: resource.name})
            report.deleted.append(f"{kind} {resource.name}")
    for resource in (r for r in resources if r.kind in STOP):
        if resource.running:
            operation, param = STOP[resource.kind]
            getattr(sm, operation)(**{param: resource.name})
            report.stopped.append(f"{resource.kind} {resource.name}")
        else:
            report.kept.append(f"{resource.kind} {resource.name} ({resource.status})")
    return report


def remove_objects(s3: Any, location: S3Location) -> list[str]:
    """Delete every object under ``location``'s prefix (as a folder); the keys deleted."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=location.bucket, Prefix=f"{location.prefix}/")
    keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
    for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1,000 keys
        s3.delete_objects(Bucket=location.bucket,
                          Delete={"Objects": [{"Key": key} for key in keys[start:start + 1000]], "Quiet": True})
    return keys
