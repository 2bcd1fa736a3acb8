"""``sentiment-app aws smoke`` end to end against moto's standalone server, on real reviews: the
training job a real process, the transform job and the endpoint answered through AWS's inference
toolkit (``tests/aws_support.py``). Whatever happens, every endpoint, config, model and S3 object
the run created is gone afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tests.aws_support import BUCKET, REGION, Recorder, aws_cli, moto_server, recording_server, s3_objects

CREATED = {"CreateModel": ("model", "ModelName"), "CreateEndpointConfig": ("endpoint-config", "EndpointConfigName"),
           "CreateEndpoint": ("endpoint", "EndpointName")}
DELETED = {"DeleteModel": ("model", "ModelName"), "DeleteEndpointConfig": ("endpoint-config", "EndpointConfigName"),
           "DeleteEndpoint": ("endpoint", "EndpointName")}


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, real_data: Path) -> Iterator[Recorder]:
    monkeypatch.setenv("SENTIMENT_APP_DATA", str(real_data))
    with moto_server() as url, recording_server(monkeypatch, tmp_path, url) as recorder:
        yield recorder


def resources(aws: Recorder, operations: dict[str, tuple[str, str]]) -> set[tuple[str, str]]:
    return {(kind, params[key]) for operation, (kind, key) in operations.items() for params in aws.params(operation)}


def left_in_the_account() -> dict[str, list[str]]:
    """What the server still holds: endpoints, configs, models, S3 objects, and the jobs' states."""
    sm = boto3.client("sagemaker", region_name=REGION)
    return {"endpoints": [e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]],
            "configs": [c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]],
            "models": [m["ModelName"] for m in sm.list_models()["Models"]],
            "objects": sorted(s3_objects(f"s3://{BUCKET}/")),
            "running jobs": [j["TrainingJobName"] for j in sm.list_training_jobs()["TrainingJobSummaries"]
                             if j["TrainingJobStatus"] == "InProgress"]
                            + [j["TransformJobName"] for j in sm.list_transform_jobs()["TransformJobSummaries"]
                               if j["TransformJobStatus"] == "InProgress"]}


NOTHING_LEFT = {"endpoints": [], "configs": [], "models": [], "objects": [], "running jobs": []}


@pytest.mark.slow  # the training entry point as a real process and 1,000 reviews through the inference toolkit
def test_a_smoke_run_goes_the_whole_way_and_leaves_nothing(account: Recorder) -> None:
    out = aws_cli("smoke", "--train-reviews", "40", "--epochs", "1")
    assert [line.split("]")[0] for line in out.splitlines() if line.startswith("[")] == \
        [f"[{n}/7" for n in range(1, 8)]  # progress, step by step
    name = account.params("CreateTrainingJob")[0]["TrainingJobName"]
    assert name.startswith("sentiment-smoke-") and out.rstrip().endswith(f"smoke run {name} passed")

    (config,) = account.params("CreateEndpointConfig")  # serverless, the trained model behind it
    assert config["ProductionVariants"][0]["ServerlessConfig"] == {"MemorySizeInMB": 2048, "MaxConcurrency": 5}
    (model,) = account.params("CreateModel")
    assert model["PrimaryContainer"]["ModelDataUrl"] == f"s3://{BUCKET}/sentiment-app/{name}/models/{name}/model.tar.gz"
    invoked = account.params("InvokeEndpoint")
    assert [i["EndpointName"] for i in invoked] == [name, name]
    assert "positive (" in out and "negative (" in out  # the endpoint's answers, read back
    (transform,) = account.params("CreateTransformJob")
    assert transform["ModelName"] == name and "on 1000 test reviews" in out  # the whole sample scored
    for line in ("training: $", "endpoint: $", "batch transform: $", "total: $"):
        assert line in out

    assert resources(account, CREATED) == resources(account, DELETED) == \
        {("model", name), ("endpoint-config", name), ("endpoint", name)}
    assert left_in_the_account() == NOTHING_LEFT
    assert f"kept training-job {name} (Completed)" in out and f"kept transform-job {name} (Completed)" in out


@pytest.mark.slow  # the training entry point as a real process
def test_a_step_that_fails_midway_still_removes_everything(account: Recorder) -> None:
    account.scripted["DescribeTransformJob"] = [{"TransformJobStatus": "Failed", "FailureReason": "ClientError: no"}]
    out = aws_cli("smoke", "--train-reviews", "40", "--epochs", "1", "--transform-reviews", "20", code=1)
    assert "is Failed: ClientError: no" in out and "passed" not in out and "[6/7]" not in out
    assert "[7/7] remove everything the run created" in out
    assert resources(account, CREATED) == resources(account, DELETED) and len(resources(account, CREATED)) == 3
    assert left_in_the_account() == NOTHING_LEFT
