"""Removing everything the project created, in the contract's order.

Endpoints go first (they bill), each after its autoscaling (policy, then scalable target), then
endpoint configs, then models; running jobs are stopped.
Finished jobs cannot be deleted through the API (they stay in the account's history and cost
nothing), so they are reported, not removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sentiment_app.aws.inventory import Resource
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
