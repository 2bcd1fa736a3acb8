"""The ``aws`` commands against moto in-process: the exact calls, their arguments and their order.

moto keeps the control plane (jobs complete at once, nothing runs); ``tests.support.Recorder`` records
every SageMaker call and plays the containers (see there). Here no training container runs (that
one is a subprocess: ``tests/system/test_cli_aws.py``); everything else is the real code path.
Deployments use the small bundled LSTM: packing the 17 MB default model takes seconds.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
from pathlib import Path
from typing import Any

import boto3
import pytest

from sentiment_app.artifacts.locate import bundled_model_dir
from sentiment_app.artifacts.model_dir import ARTIFACT_FILES, MANIFEST, load_model_dir
from sentiment_app.aws.inventory import TAG_KEY, TAG_VALUE
from tests.support import BUCKET, REGION, ROLE, Recorder, aws_cli, extract, last_json, put_s3, s3_objects

SMALL_MODEL = str(bundled_model_dir("lstm-seed"))


def tagged_leftovers() -> dict[str, list[str]]:
    """Names of the project-tagged endpoints, configs and models still in the account."""
    sm = boto3.client("sagemaker", region_name=REGION)
    listed = {"endpoint": [(e["EndpointName"], e["EndpointArn"]) for e in sm.list_endpoints()["Endpoints"]],
              "endpoint-config": [(c["EndpointConfigName"], c["EndpointConfigArn"])
                                  for c in sm.list_endpoint_configs()["EndpointConfigs"]],
              "model": [(m["ModelName"], m["ModelArn"]) for m in sm.list_models()["Models"]]}
    return {kind: [name for name, arn in items if {"Key": TAG_KEY, "Value": TAG_VALUE}
                   in sm.list_tags(ResourceArn=arn)["Tags"]] for kind, items in listed.items()}


def test_training_archive_is_repacked_with_inference_code(aws: Recorder, tmp_path: Path) -> None:
    """A training job's model.tar.gz has no code/: deploy uploads model + code/ and serves that."""
    bundled = bundled_model_dir("lstm-seed")
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for name in (*ARTIFACT_FILES, MANIFEST):
            tar.add(bundled / name, arcname=name)
    put_s3(f"s3://{BUCKET}/elsewhere/model.tar.gz", raw.getvalue())
    aws_cli("deploy", "bundled", "--model-data", f"s3://{BUCKET}/elsewhere/model.tar.gz")
    url = aws.params("CreateModel")[0]["PrimaryContainer"]["ModelDataUrl"]
    assert url.startswith(f"s3://{BUCKET}/sentiment-app/models/bundled-")
    (archive,) = s3_objects(url).values()
    served = extract(archive, tmp_path / "served")
    assert (served / "code" / "inference.py").is_file() and (served / "code" / "sentiment_app" / "cli" / "__init__.py").is_file()
    assert load_model_dir(served).version == load_model_dir(bundled).version  # same weights, manifest intact

    aws.clear()  # an archive that already has code/ is used where it is
    aws_cli("deploy", "again", "--model-data", url)
    assert aws.params("CreateModel")[0]["PrimaryContainer"]["ModelDataUrl"] == url


def test_distributed_training_request(aws: Recorder) -> None:
    put_s3(f"s3://{BUCKET}/sentiment-app/data/meta.json", json.dumps({"vocab_size": 77}).encode())
    aws.containers = False  # the request is the point here; two-process training has its own tests
    aws_cli("train", "--job-name", "ddp", "--instance-count", "2", "--instance-type", "ml.g4dn.xlarge", "--epochs", "1",
            "--no-wait")
    assert aws.operations() == ["CreateTrainingJob"]  # --no-wait: no polling
    (request,) = aws.params("CreateTrainingJob")
    assert request["HyperParameters"]["sagemaker_torch_distributed_enabled"] == "true"
    assert request["HyperParameters"]["sagemaker_instance_type"] == '"ml.g4dn.xlarge"'
    assert request["ResourceConfig"]["InstanceCount"] == 2
    assert request["HyperParameters"]["vocab-size"] == "77"  # from the uploaded data's meta.json
    assert request["AlgorithmSpecification"]["TrainingImage"].endswith("/pytorch-training:2.8.0-gpu-py312")


def test_status_delete_and_cleanup(aws: Recorder) -> None:
    aws_cli("deploy", "first", "--model", SMALL_MODEL, "--instance-type", "ml.m5.large")
    aws_cli("deploy", "second", "--model", SMALL_MODEL, "--instance-type", "ml.c5.xlarge", "--instance-count", "2")
    sm = boto3.client("sagemaker", region_name=REGION)  # a resource without the tag is never touched
    sm.create_model(ModelName="not-ours", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "x"})

    status = last_json(aws_cli("status", "--json"))
    by_kind = {(r["kind"], r["name"].split("-")[0]): r for r in status["resources"]}
    assert sorted(by_kind) == sorted((kind, name) for kind in ("endpoint", "endpoint-config", "model")
                                     for name in ("first", "second"))
    second = by_kind[("endpoint", "second")]
    assert (second["status"], second["instance_type"], second["instance_count"]) == ("InService", "ml.c5.xlarge", 2)
    assert second["hourly_cost_usd"] == pytest.approx(0.408) and second["uptime_seconds"] >= 0
    assert status["total_hourly_cost_usd"] == pytest.approx(0.115 + 0.408)
    assert by_kind[("model", "first")]["running"] is False
    table = aws_cli("status")
    assert len(table.splitlines()) == 7 and "estimated total for what is running: $0.523/h" in table
    assert re.search(r"endpoint +second +InService +2 × ml.c5.xlarge .* \$0.408/h", table) and "(not billing)" in table

    aws.clear()
    out = aws_cli("delete", "first")
    config_name = by_kind[("endpoint-config", "first")]["name"]
    assert aws.calls == [("DescribeEndpoint", {"EndpointName": "first"}), ("DeleteEndpoint", {"EndpointName": "first"}),
                         ("DescribeEndpointConfig", {"EndpointConfigName": config_name}),
                         ("DeleteEndpointConfig", {"EndpointConfigName": config_name}),
                         ("DeleteModel", {"ModelName": by_kind[("model", "first")]["name"]})]
    assert out.splitlines()[0] == "deleted endpoint first"
    second_only = {kind: [by_kind[(kind, "second")]["name"]] for kind in ("endpoint", "endpoint-config", "model")}
    assert tagged_leftovers() == second_only

    aws.clear()
    out = aws_cli("cleanup", input="n\n", code=1)  # answered no: nothing changes
    assert "Aborted" in out and not [op for op in aws.operations() if op.startswith("Delete")]
    assert tagged_leftovers() == second_only

    aws.clear()
    out = aws_cli("cleanup", "--yes")
    assert [op for op in aws.operations() if op.startswith("Delete")] == \
        ["DeleteEndpoint", "DeleteEndpointConfig", "DeleteModel"]
    assert tagged_leftovers() == {"endpoint": [], "endpoint-config": [], "model": []}
    assert [m["ModelName"] for m in sm.list_models()["Models"]] == ["not-ours"]
    assert last_json(aws_cli("status", "--json"))["resources"] == []


def endpoint_state(status: str, reason: str | None = None) -> dict[str, Any]:
    return {"EndpointName": "waiting", "EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/waiting",
            "EndpointConfigName": "c", "EndpointStatus": status, "CreationTime": "2026-01-01T00:00:00Z",
            "LastModifiedTime": "2026-01-01T00:00:00Z", **({"FailureReason": reason} if reason else {})}


def test_deploy_waits_through_creating_until_in_service(aws: Recorder) -> None:
    aws.scripted["DescribeEndpoint"] = [endpoint_state("Creating"), endpoint_state("Creating"),
                                        endpoint_state("InService")]
    out = aws_cli("deploy", "waiting", "--model", SMALL_MODEL)
    assert aws.operations()[-3:] == ["DescribeEndpoint"] * 3 and not aws.scripted["DescribeEndpoint"]
    assert "endpoint waiting is InService" in out


def test_deploy_reports_a_failed_endpoint_and_how_to_remove_it(aws: Recorder) -> None:
    aws.scripted["DescribeEndpoint"] = [endpoint_state("Creating"), endpoint_state("Failed", "Image pull failed.")]
    out = aws_cli("deploy", "waiting", "--model", SMALL_MODEL, code=1)
    assert aws.operations()[-2:] == ["DescribeEndpoint"] * 2
    assert out.strip().splitlines()[-1] == ("error: endpoint waiting is Failed: Image pull failed.; remove it with: "
                                            "sentiment-app aws delete waiting --region us-east-1")


def test_aws_errors_and_missing_settings_are_one_line(aws: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    out = aws_cli("delete", "no-such-endpoint", code=1)
    assert out.splitlines() == ["error: AWS DescribeEndpoint: ValidationException: Could not find endpoint "
                                "'arn:aws:sagemaker:us-east-1:123456789012:endpoint/no-such-endpoint'."]
    out = aws_cli("train", "--job-name", "nodata", code=1)
    assert "run `sentiment-app aws upload` first" in out and not aws.params("CreateTrainingJob")
    monkeypatch.delenv("SENTIMENT_APP_SAGEMAKER_ROLE")
    assert "No SageMaker execution role: pass --role ARN" in aws_cli("deploy", "x", code=1)
    assert "must be an IAM role ARN" in aws_cli("deploy", "x", "--role", "admin", code=1)
    monkeypatch.delenv("SENTIMENT_APP_BUCKET")
    assert "No S3 bucket: pass --bucket" in aws_cli("train", "--role", ROLE, code=1)
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert "No AWS region: pass --region" in aws_cli("status", code=1)
    assert "Invalid endpoint name 'bad_name'" in aws_cli("deploy", "bad_name", "--region", REGION, "--bucket", BUCKET,
                                                         "--role", ROLE, code=1)
