"""A SageMaker training job running the project's own entry point in the PyTorch training image.

The request is the SDK's script mode: code in ``sourcedir.tar.gz``, every hyperparameter a
JSON-encoded string, ``sagemaker_program``/``sagemaker_submit_directory`` naming the code. When
several GPU instances train together it adds ``sagemaker_torch_distributed_enabled`` (the toolkit
then launches the entry point with ``torchrun`` on every host); the SDK refuses that option on CPU
instances, so several CPU instances each run the entry point once, and it joins the hosts itself
(:mod:`sentiment_app.training.distributed`).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sentiment_app.artifacts.archive import safe_extract
from sentiment_app.artifacts.model_dir import MANIFEST, METRICS
from sentiment_app.aws.channels import CHANNELS, data_prefix
from sentiment_app.aws.images import processor
from sentiment_app.aws.inventory import PROJECT_TAGS
from sentiment_app.aws.locations import S3Location
from sentiment_app.aws.session import Aws
from sentiment_app.aws.sourcedir import ENTRY_POINT, pack_sourcedir
from sentiment_app.features.prepare import ROWS
from sentiment_app.models.registry import get_spec
from sentiment_app.store.objects import local_input
from sentiment_app.store.s3 import ObjectNotFound
from sentiment_app.models.metric_log import metric_definitions

# SageMaker reads these from the job's log (the entry point prints one line per epoch).
CHECKPOINT_PATH = "/opt/ml/checkpoints"
DEFAULT_INSTANCE_TYPE = "ml.m5.xlarge"


@dataclass(frozen=True)
class TrainingSpec:
    name: str
    role: str
    image: str
    instance_type: str = DEFAULT_INSTANCE_TYPE
    instance_count: int = 1
    volume_gb: int = 10
    max_runtime_s: int = 24 * 3600
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    channel_kind: str = ROWS  # which uploaded channels the family reads (see aws.channels)
    inputs: dict[str, str] = field(default_factory=dict)  # optional channel (teacher, encoder) → its s3:// folder

    @property
    def torch_distributed(self) -> bool:
        """Several GPU instances: torchrun on each (on CPU instances the entry point joins the hosts)."""
        return self.instance_count > 1 and processor(self.instance_type) == "gpu"


def script_mode_hyperparameters(spec: TrainingSpec, submit_directory: str, region: str) -> dict[str, str]:
    """The model's hyperparameters plus the toolkit's ``sagemaker_*`` keys, each ``json.dumps``-ed."""
    values: dict[str, Any] = {
        **spec.hyperparameters,
        "sagemaker_program": ENTRY_POINT,
        "sagemaker_submit_directory": submit_directory,
        "sagemaker_region": region,
        "sagemaker_container_log_level": 20,
        "sagemaker_job_name": spec.name,
    }
    if spec.torch_distributed:
        values["sagemaker_torch_distributed_enabled"] = True
        values["sagemaker_instance_type"] = spec.instance_type
    return {key: json.dumps(value) for key, value in values.items()}


def _channel(name: str, uri: str, content_type: str | None = "text/csv") -> dict[str, Any]:
    """Every file under ``uri`` copied to every host's ``/opt/ml/input/data/<name>/``."""
    return {"ChannelName": name, **({"ContentType": content_type} if content_type else {}), "CompressionType": "None",
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri,
                                            "S3DataDistributionType": "FullyReplicated"}}}


def training_request(spec: TrainingSpec, location: S3Location, submit_directory: str, region: str) -> dict[str, Any]:
    """The CreateTrainingJob arguments (SageMaker's API, as the Python SDK's Estimator sends them)."""
    return {
        "TrainingJobName": spec.name,
        "RoleArn": spec.role,
        "AlgorithmSpecification": {"TrainingImage": spec.image, "TrainingInputMode": "File",
                                   "MetricDefinitions": metric_definitions(get_spec(spec.hyperparameters["family"]).metrics)},
        "HyperParameters": script_mode_hyperparameters(spec, submit_directory, region),
        "InputDataConfig": [*(_channel(name, location.uri(f"{data_prefix(spec.channel_kind)}{name}/")) for name in CHANNELS),
                            *(_channel(name, uri, None) for name, uri in spec.inputs.items())],
        "OutputDataConfig": {"S3OutputPath": location.uri("output")},
        "ResourceConfig": {"InstanceType": spec.instance_type, "InstanceCount": spec.instance_count,
                           "VolumeSizeInGB": spec.volume_gb},
        "StoppingCondition": {"MaxRuntimeInSeconds": spec.max_runtime_s},
        "CheckpointConfig": {"S3Uri": location.uri(f"checkpoints/{spec.name}"), "LocalPath": CHECKPOINT_PATH},
        "Tags": PROJECT_TAGS,
    }


def start_training_job(aws: Aws, location: S3Location, spec: TrainingSpec) -> dict[str, Any]:
    """Pack and upload the code, then CreateTrainingJob; returns the request sent."""
    key = f"jobs/{spec.name}/source/sourcedir.tar.gz"
    with tempfile.TemporaryDirectory() as tmp:
        location.store.put_file(key, pack_sourcedir(Path(tmp) / "sourcedir.tar.gz"))
    request = training_request(spec, location, location.uri(key), aws.region)
    aws.sagemaker.create_training_job(**request)
    return request


def training_results(description: dict[str, Any], models: Path) -> dict[str, Any]:
    """Final metrics SageMaker parsed from the log and, when the job wrote ``model.tar.gz``, the model
    folder extracted safely into ``models/<job>`` with its ``metrics.json`` (per-epoch loss,
    validation accuracy, seconds)."""
    model_data = description.get("ModelArtifacts", {}).get("S3ModelArtifacts")
    result: dict[str, Any] = {
        "job": description["TrainingJobName"],
        "status": description["TrainingJobStatus"],
        "model_data": model_data,
        "final_metrics": {m["MetricName"]: m["Value"] for m in description.get("FinalMetricDataList", [])},
        "metrics": None,
        "model_dir": None,
    }
    if model_data:
        model_dir = models / description["TrainingJobName"]
        try:
            if not (model_dir / MANIFEST).is_file():
                with local_input(model_data) as archive:
                    safe_extract(archive, model_dir)
        except ObjectNotFound:
            return result  # the job wrote no model (or a local AWS-API server ran nothing)
        result.update(model_dir=str(model_dir), metrics=json.loads((model_dir / METRICS).read_text(encoding="utf-8")))
    return result
