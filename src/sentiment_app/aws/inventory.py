"""What the project created, found by its tag: endpoints, configs, models and jobs, with cost.

Every create call adds :data:`PROJECT_TAGS`; listing walks each resource type's List API and
keeps the resources whose ``ListTags`` carries the project tag, so resources made by hand or by
other projects in the same account are never touched.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import ClientError

from sentiment_app.aws.pricing import hourly_cost, serverless_cost_per_second

TAG_KEY = "sentiment-app:project"
TAG_VALUE = "sentiment-app"
PROJECT_TAGS = [{"Key": TAG_KEY, "Value": TAG_VALUE}]

# kind → (List operation, result list, name field, ARN field, status field or None)
KINDS: dict[str, tuple[str, str, str, str, str | None]] = {
    "endpoint": ("list_endpoints", "Endpoints", "EndpointName", "EndpointArn", "EndpointStatus"),
    "endpoint-config": ("list_endpoint_configs", "EndpointConfigs", "EndpointConfigName", "EndpointConfigArn", None),
    "model": ("list_models", "Models", "ModelName", "ModelArn", None),
    "training-job": ("list_training_jobs", "TrainingJobSummaries", "TrainingJobName", "TrainingJobArn", "TrainingJobStatus"),
    "transform-job": ("list_transform_jobs", "TransformJobSummaries", "TransformJobName", "TransformJobArn", "TransformJobStatus"),
}
# Statuses in which a resource holds instances (and bills).
BILLING = {"Creating", "Updating", "SystemUpdating", "RollingBack", "InService", "Deleting", "InProgress", "Stopping"}


@dataclass
class Resource:
    kind: str
    name: str
    arn: str
    status: str | None
    created: datetime
    instance_type: str | None = None
    instance_count: int = 0
    serverless: dict[str, int] | None = None  # memory_mb, max_concurrency of a serverless endpoint
    scaling: list[dict[str, Any]] = field(default_factory=list)  # per autoscaled variant: bounds, target

    @property
    def running(self) -> bool:
        return self.status in BILLING

    @property
    def hourly_cost(self) -> float | None:
        """Instance-hours; a serverless endpoint bills no hours (nothing while idle)."""
        if self.serverless:
            return 0.0
        return hourly_cost(self.instance_type, self.instance_count) if self.instance_type else None

    def uptime_seconds(self, now: datetime) -> float:
        return max(0.0, (now - self.created).total_seconds())

    def as_json(self, now: datetime) -> dict[str, Any]:
        data = asdict(self)
        data.update(created=self.created.isoformat(), running=self.running, hourly_cost_usd=self.hourly_cost,
                    uptime_seconds=round(self.uptime_seconds(now), 1))
        if self.serverless:
            data["serverless"] = {**self.serverless,
                                  "usd_per_second_serving": serverless_cost_per_second(self.serverless["memory_mb"])}
        return data


def is_project_resource(sm: Any, arn: str) -> bool:
    tags = [tag for page in sm.get_paginator("list_tags").paginate(ResourceArn=arn) for tag in page["Tags"]]
    return {"Key": TAG_KEY, "Value": TAG_VALUE} in tags


def variants_of(description: dict[str, Any]) -> list[dict[str, Any]]:
    """The production and shadow variants of an endpoint or endpoint config description."""
    return [*description.get("ProductionVariants", []), *description.get("ShadowProductionVariants", [])]


def _endpoint_capacity(sm: Any, name: str) -> dict[str, Any]:
    """Instance type and the instances running now (else those asked for) over every variant, or the
    serverless configuration."""
    endpoint = sm.describe_endpoint(EndpointName=name)
    variants = variants_of(sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"]))
    serverless = next((v["ServerlessConfig"] for v in variants if "ServerlessConfig" in v), None)
    if serverless:
        return {"serverless": {"memory_mb": serverless["MemorySizeInMB"],
                               "max_concurrency": serverless["MaxConcurrency"]}}
    running = {v["VariantName"]: v["CurrentInstanceCount"] for v in variants_of(endpoint) if "CurrentInstanceCount" in v}
    count = sum(running.get(v["VariantName"], v.get("InitialInstanceCount", 0)) for v in variants)
    return {"instance_type": variants[0].get("InstanceType"), "instance_count": count} if variants else {}


def _capacity(sm: Any, kind: str, name: str) -> dict[str, Any]:
    """What the resources that run on instances (or serverless) run on, as :class:`Resource` fields."""
    if kind == "endpoint":
        return _endpoint_capacity(sm, name)
    if kind == "training-job":
        resources = sm.describe_training_job(TrainingJobName=name)["ResourceConfig"]
        return {"instance_type": resources.get("InstanceType"), "instance_count": resources.get("InstanceCount", 0)}
    if kind == "transform-job":
        resources = sm.describe_transform_job(TransformJobName=name)["TransformResources"]
        return {"instance_type": resources.get("InstanceType"), "instance_count": resources.get("InstanceCount", 0)}
    return {}


def project_resources(sm: Any, kinds: tuple[str, ...] = tuple(KINDS)) -> list[Resource]:
    """The project's resources of ``kinds``, in the order of :data:`KINDS`, oldest first."""
    found: list[Resource] = []
    for kind in kinds:
        operation, key, name_field, arn_field, status_field = KINDS[kind]
        items = [item for page in sm.get_paginator(operation).paginate() for item in page[key]]
        for item in sorted(items, key=lambda i: i["CreationTime"]):
            if not is_project_resource(sm, item[arn_field]):
                continue
            try:
                capacity = _capacity(sm, kind, item[name_field])
            except ClientError:  # e.g. an endpoint being deleted whose config is already gone
                capacity = {}
            found.append(Resource(kind, item[name_field], item[arn_field], item.get(status_field) if status_field else None,
                                  item["CreationTime"], **capacity))
    return found


def total_hourly_cost(resources: list[Resource]) -> float:
    """Estimated USD per hour of what is running (unknown instance types count as 0)."""
    return round(sum(r.hourly_cost or 0.0 for r in resources if r.running), 4)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
