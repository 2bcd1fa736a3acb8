"""The SageMaker model behind endpoints and transform jobs: a serving ``model.tar.gz`` + the image.

The serving container imports ``code/inference.py`` from the archive. A training job's own
``model.tar.gz`` holds only the model directory (SageMaker tars ``/opt/ml/model``), so, like the
SDK's ``PyTorchModel``, it is repacked with ``code/`` before CreateModel.
"""

from __future__ import annotations

import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sentiment_app.artifacts.archive import safe_extract
from sentiment_app.artifacts.model_dir import pack_model_archive
from sentiment_app.aws.inventory import PROJECT_TAGS
from sentiment_app.aws.locations import S3Location
from sentiment_app.aws.session import Aws
from sentiment_app.errors import SentimentAppError
from sentiment_app.store.objects import local_input

INFERENCE_ENTRY = "code/inference.py"


@dataclass(frozen=True)
class ModelSource:
    """Exactly one of: a local model directory, a finished training job, an ``s3://`` archive."""

    model_dir: Path | None = None
    training_job: str | None = None
    model_data: str | None = None

    def __post_init__(self) -> None:
        if sum(x is not None for x in (self.model_dir, self.training_job, self.model_data)) != 1:
            raise SentimentAppError("Give exactly one of --model DIR, --training-job NAME, --model-data s3://...")


def serving_environment(region: str) -> dict[str, str]:
    """What the SDK sets for the PyTorch serving container (its environment variables)."""
    return {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
            "SAGEMAKER_CONTAINER_LOG_LEVEL": "20", "SAGEMAKER_REGION": region}


def has_inference_code(archive: Path) -> bool:
    with tarfile.open(archive, "r:gz") as tar:
        return INFERENCE_ENTRY in tar.getnames()


def repack_with_code(archive: Path, work: Path) -> Path:
    """A training ``model.tar.gz`` → the same model plus ``code/`` (checked against its manifest)."""
    return pack_model_archive(safe_extract(archive, work / "model"), work / "serving.tar.gz")


def serving_model_data(aws: Aws, location: S3Location, source: ModelSource, name: str) -> str:
    """The ``s3://`` URI of a serving archive for ``source``, uploading a packed one when needed."""
    key = f"models/{name}/model.tar.gz"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if source.model_dir is not None:
            location.store.put_file(key, pack_model_archive(source.model_dir, work / "model.tar.gz"))
            return location.uri(key)
        uri = source.model_data
        if source.training_job is not None:
            job = aws.sagemaker.describe_training_job(TrainingJobName=source.training_job)
            if job["TrainingJobStatus"] != "Completed":
                raise SentimentAppError(f"Training job {source.training_job} is {job['TrainingJobStatus']}, not Completed")
            uri = job["ModelArtifacts"]["S3ModelArtifacts"]
        assert uri is not None
        with local_input(uri) as archive:
            if has_inference_code(archive):
                return uri
            location.store.put_file(key, repack_with_code(archive, work))
        return location.uri(key)


def create_model(aws: Aws, name: str, image: str, model_data: str, role: str) -> dict[str, Any]:
    """CreateModel with the serving image and environment; returns the request sent."""
    request = {
        "ModelName": name,
        "ExecutionRoleArn": role,
        "PrimaryContainer": {"Image": image, "ModelDataUrl": model_data, "Environment": serving_environment(aws.region)},
        "Tags": PROJECT_TAGS,
    }
    aws.sagemaker.create_model(**request)
    return request
