"""The ``aws`` commands against moto in-process: the exact calls, their arguments and their order.

moto keeps the control plane (jobs complete at once, nothing runs), so two stand-ins play the
containers, hooked on the real calls: the training job unpacks the uploaded ``sourcedir.tar.gz``
and runs its entry script on the uploaded channels with the hyperparameters decoded as the training
toolkit does; the transform job loads the model archive the job names and answers mini-batches of
the input lines through the real inference handler. Everything else is the real code path.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from click.testing import CliRunner
from moto import mock_aws

from sentiment_app.artifacts.model_dir import ARTIFACT_FILES, MANIFEST, load_model_dir
from sentiment_app.aws.inventory import PROJECT_TAGS, TAG_KEY, TAG_VALUE
from sentiment_app.cli import main
from sentiment_app.data.dataset import load_imdb, stratified_sample
from sentiment_app.evaluation.metrics import compute_metrics
from sentiment_app.inference.handler import input_fn, model_fn, output_fn, predict_fn
from sentiment_app.artifacts.locate import bundled_model_dir
from sentiment_app.pipeline import DataOptions, load_splits
from sentiment_app.settings import load_settings
from sentiment_app.training.job import script_args
from tests.conftest import csv_gz

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
BUCKET = "sentiment-test-bucket"
REVIEWS_PER_SPLIT = 16
MINI_BATCH = 5  # lines per transform request: 16 lines give batches of 5, 5, 5, 1


@pytest.fixture(scope="module")
def small_data(real_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stratified slice of the real IMDB split, in the CSV-pair form, so each command loads it fast."""
    folder = tmp_path_factory.mktemp("imdb-slice")
    for name, reviews in load_imdb(real_data).items():
        (folder / f"{name}.csv.gz").write_bytes(csv_gz(stratified_sample(reviews, REVIEWS_PER_SPLIT, seed=3)))
    return folder


def s3_objects(uri: str) -> dict[str, bytes]:
    """Every object under an ``s3://`` prefix, by key."""
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    s3 = boto3.client("s3", region_name=REGION)
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for o in page.get("Contents", [])]
    return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def put_s3(uri: str, data: bytes) -> None:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    boto3.client("s3", region_name=REGION).put_object(Bucket=bucket, Key=key, Body=data)


def extract(data: bytes, target: Path) -> Path:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(target, filter="data")
    return target


def training_container(request: dict[str, Any]) -> None:
    """What the PyTorch training image does with the job: code and channels in, ``python <program>
    --key value ...`` (keys sorted, ``sagemaker_*`` removed, values JSON-decoded), model dir tarred out."""
    hyperparameters = {key: json.loads(value) for key, value in request["HyperParameters"].items()}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (source,) = s3_objects(hyperparameters["sagemaker_submit_directory"]).values()
        code = extract(source, base / "code")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SM_", "PYTHON"))}
        env.update(SAGEMAKER_BASE_DIR=str(base), SM_MODEL_DIR=str(base / "model"))
        for channel in request["InputDataConfig"]:
            folder = base / "input" / "data" / channel["ChannelName"]
            for key, data in s3_objects(channel["DataSource"]["S3DataSource"]["S3Uri"]).items():
                (folder / key.rpartition("/")[2]).parent.mkdir(parents=True, exist_ok=True)
                (folder / key.rpartition("/")[2]).write_bytes(data)
            env[f"SM_CHANNEL_{channel['ChannelName'].upper()}"] = str(folder)
        user = {k: v for k, v in hyperparameters.items() if not k.startswith("sagemaker_")}
        run = subprocess.run([sys.executable, hyperparameters["sagemaker_program"], *script_args(user)],
                             cwd=code, env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr[-3000:]
        archive = io.BytesIO()
        with tarfile.open(fileobj=archive, mode="w:gz") as tar:
            for path in sorted((base / "model").iterdir()):
                tar.add(path, arcname=path.name)
        name, output = request["TrainingJobName"], request["OutputDataConfig"]["S3OutputPath"]
        put_s3(f"{output}/{name}/output/model.tar.gz", archive.getvalue())


def transform_container(request: dict[str, Any]) -> None:
    """What batch transform does: the job's model archive into ``/opt/ml/model``, each input object
    split on lines into mini-batches, each batch through the handler, responses joined by lines."""
    sm = boto3.client("sagemaker", region_name=REGION)
    container = sm.describe_model(ModelName=request["ModelName"])["PrimaryContainer"]
    with tempfile.TemporaryDirectory() as tmp:
        (archive,) = s3_objects(container["ModelDataUrl"]).values()
        model_dir = extract(archive, Path(tmp))
        assert (model_dir / "code" / container["Environment"]["SAGEMAKER_PROGRAM"]).is_file()
        model = model_fn(str(model_dir))
    source = request["TransformInput"]
    for key, data in s3_objects(source["DataSource"]["S3DataSource"]["S3Uri"]).items():
        lines = data.decode("utf-8").splitlines()
        answers = []
        for i in range(0, len(lines), MINI_BATCH):
            body = "\n".join(lines[i : i + MINI_BATCH])
            prediction = predict_fn(input_fn(body, source["ContentType"]), model)
            answers.append(output_fn(prediction, request["TransformOutput"]["Accept"])[0] + "\n")
        put_s3(f"{request['TransformOutput']['S3OutputPath'].rstrip('/')}/{key.rpartition('/')[2]}.out",
               "".join(answers).encode())


CONTAINERS = {"CreateTrainingJob": training_container, "CreateTransformJob": transform_container}


@dataclass
class Recorder:
    """The SageMaker calls the commands make, as (operation, API parameters), in order."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    scripted: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    containers: bool = True

    def record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, json.loads(json.dumps(params, default=str))))

    def answer_scripted(self, model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        """The next scripted answer for this operation instead of moto's (whose resources never change state)."""
        queue = self.scripted.get(model.name)
        return (AWSResponse("", 200, {}, None), queue.pop(0)) if queue else None

    def run_container(self, model: Any, http_response: Any, **_: Any) -> None:
        if self.containers and model.name in CONTAINERS and http_response.status_code == 200:
            CONTAINERS[model.name](self.params(model.name)[-1])

    def operations(self, *, skip: tuple[str, ...] = ("ListTags",)) -> list[str]:
        return [name for name, _ in self.calls if name not in skip]

    def params(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == operation]

    def clear(self) -> None:
        self.calls.clear()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Recorder]:
    """moto in-process with dummy credentials, a bucket, and every session the commands open recording."""
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("SENTIMENT_APP_AWS_POLL_SECONDS", "0")
    monkeypatch.setenv("SENTIMENT_APP_SAGEMAKER_ROLE", ROLE)
    monkeypatch.setenv("SENTIMENT_APP_BUCKET", BUCKET)
    monkeypatch.setenv("SENTIMENT_APP_HOME", str(tmp_path / "home"))
    recorder = Recorder()

    class RecordingSession(boto3.Session):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.events.register("provide-client-params.sagemaker", recorder.record)
            self.events.register("provide-client-params.sagemaker-runtime", recorder.record)
            self.events.register("before-call.sagemaker", recorder.answer_scripted)
            self.events.register("after-call.sagemaker", recorder.run_container)

    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        monkeypatch.setattr(boto3, "Session", RecordingSession)
        yield recorder


def cli(*args: str, input: str | None = None, code: int = 0) -> str:
    result = CliRunner().invoke(main, ["aws", *args], input=input, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def last_json(output: str) -> dict[str, Any]:
    return json.loads(output.strip().splitlines()[-1])


def tagged_leftovers() -> dict[str, list[str]]:
    """Names of the project-tagged endpoints, configs and models still in the account."""
    sm = boto3.client("sagemaker", region_name=REGION)
    listed = {"endpoint": [(e["EndpointName"], e["EndpointArn"]) for e in sm.list_endpoints()["Endpoints"]],
              "endpoint-config": [(c["EndpointConfigName"], c["EndpointConfigArn"])
                                  for c in sm.list_endpoint_configs()["EndpointConfigs"]],
              "model": [(m["ModelName"], m["ModelArn"]) for m in sm.list_models()["Models"]]}
    return {kind: [name for name, arn in items if {"Key": TAG_KEY, "Value": TAG_VALUE}
                   in sm.list_tags(ResourceArn=arn)["Tags"]] for kind, items in listed.items()}


@pytest.mark.slow  # about 25 s idle: two real processes (features, the training entry point) and real scoring
def test_upload_train_transform_deploy_on_real_data(aws: Recorder, small_data: Path) -> None:
    # upload: the prepared data as two channels, plus meta.json
    out = cli("upload", "--data", str(small_data), "--max-reviews", str(REVIEWS_PER_SPLIT), "--prefix", "run1")
    data = s3_objects(f"s3://{BUCKET}/run1/data/")
    assert sorted(data) == [f"run1/data/{k}" for k in
                            ("meta.json", "training/train.csv", "training/word_dict.json", "validation/test.csv")]
    assert len(data["run1/data/training/train.csv"].splitlines()) == REVIEWS_PER_SPLIT
    assert f"s3://{BUCKET}/run1/data/training/train.csv" in out
    meta = json.loads(data["run1/data/meta.json"])

    # train: sourcedir uploaded, one CreateTrainingJob in script mode, waited for, metrics fetched
    out = cli("train", "--prefix", "run1", "--job-name", "train-a", "--epochs", "2", "--batch-size", "8", "--json")
    assert aws.operations() == ["CreateTrainingJob", "DescribeTrainingJob"]
    (request,) = aws.params("CreateTrainingJob")
    hp = request["HyperParameters"]
    assert all(isinstance(v, str) for v in hp.values())
    assert {k: json.loads(v) for k, v in hp.items()} == {
        "family": "lstm-seed", "epochs": 2, "batch-size": 8, "lr": 0.001, "seed": 1, "embedding-dim": 32,
        "hidden-dim": 100, "vocab-size": meta["vocab_size"], "sagemaker_program": "train.py",
        "sagemaker_submit_directory": f"s3://{BUCKET}/run1/jobs/train-a/source/sourcedir.tar.gz",
        "sagemaker_region": REGION, "sagemaker_container_log_level": 20, "sagemaker_job_name": "train-a"}
    assert request["RoleArn"] == ROLE and request["Tags"] == PROJECT_TAGS
    assert request["AlgorithmSpecification"]["TrainingImage"] == \
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.8.0-cpu-py312"
    assert [(c["ChannelName"], c["DataSource"]["S3DataSource"]["S3Uri"]) for c in request["InputDataConfig"]] == [
        ("training", f"s3://{BUCKET}/run1/data/training/"), ("validation", f"s3://{BUCKET}/run1/data/validation/")]
    assert request["OutputDataConfig"] == {"S3OutputPath": f"s3://{BUCKET}/run1/output"}
    assert request["ResourceConfig"] == {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10}
    result = last_json(out)
    assert result["model_data"] == f"s3://{BUCKET}/run1/output/train-a/output/model.tar.gz"
    history = result["metrics"]["history"]  # metrics.json of the model the entry point trained
    assert [e["epoch"] for e in history] == [1, 2] and all(0 < e["loss"] < 1 and "val_accuracy" in e for e in history)

    # transform: a model made from the training output (repacked with code/), the job, the metrics
    aws.clear()
    out = cli("transform", "--data", str(small_data), "--max-reviews", str(REVIEWS_PER_SPLIT), "--prefix", "run1",
              "--training-job", "train-a", "--job-name", "score-a", "--json")
    assert aws.operations() == ["DescribeTrainingJob", "CreateModel", "CreateTransformJob", "DescribeTransformJob"]
    (model_request,) = aws.params("CreateModel")
    assert model_request["ModelName"] == "score-a"
    assert model_request["PrimaryContainer"]["ModelDataUrl"] == f"s3://{BUCKET}/run1/models/score-a/model.tar.gz"
    (job,) = aws.params("CreateTransformJob")
    assert job["ModelName"] == "score-a" and job["Tags"] == PROJECT_TAGS
    assert job["TransformInput"] == {
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/run1/transform/score-a/input/"}},
        "ContentType": "text/csv", "SplitType": "Line", "CompressionType": "None"}
    assert job["TransformOutput"] == {"S3OutputPath": f"s3://{BUCKET}/run1/transform/score-a/output/",
                                      "Accept": "application/json", "AssembleWith": "Line"}
    reported = last_json(out)
    assert reported["count"] == REVIEWS_PER_SPLIT
    # the same numbers straight from the trained weights, scored locally on the same reviews
    with tempfile.TemporaryDirectory() as tmp:
        (archive,) = s3_objects(result["model_data"]).values()
        model = model_fn(str(extract(archive, Path(tmp))))
    test = load_splits(load_settings(data=small_data), DataOptions(max_reviews=REVIEWS_PER_SPLIT))["test"]
    expected = compute_metrics(test.labels, model.predict_proba(test.texts))
    assert reported["accuracy"] == expected["accuracy"]
    assert reported["confusion_matrix"] == expected["confusion_matrix"]

    # deploy the training job's model: model → config → endpoint, waited for InService
    aws.clear()
    out = cli("deploy", "reviews", "--prefix", "run1", "--training-job", "train-a", "--instance-type", "ml.m5.large")
    assert aws.operations() == ["DescribeTrainingJob", "CreateModel", "CreateEndpointConfig", "CreateEndpoint",
                                "DescribeEndpoint"]
    model_name = aws.params("CreateModel")[0]["ModelName"]
    config = aws.params("CreateEndpointConfig")[0]
    assert config["ProductionVariants"] == [{"VariantName": "AllTraffic", "ModelName": model_name,
                                             "InitialInstanceCount": 1, "InstanceType": "ml.m5.large",
                                             "InitialVariantWeight": 1.0}]
    assert aws.params("CreateEndpoint")[0] == {"EndpointName": "reviews", "EndpointConfigName": model_name,
                                               "Tags": PROJECT_TAGS}
    assert "$0.115/h" in out and "sentiment-app aws delete reviews --region us-east-1" in out


def test_training_archive_is_repacked_with_inference_code(aws: Recorder, tmp_path: Path) -> None:
    """A training job's model.tar.gz has no code/: deploy uploads model + code/ and serves that."""
    bundled = bundled_model_dir()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for name in (*ARTIFACT_FILES, MANIFEST):
            tar.add(bundled / name, arcname=name)
    put_s3(f"s3://{BUCKET}/elsewhere/model.tar.gz", raw.getvalue())
    cli("deploy", "bundled", "--model-data", f"s3://{BUCKET}/elsewhere/model.tar.gz")
    url = aws.params("CreateModel")[0]["PrimaryContainer"]["ModelDataUrl"]
    assert url.startswith(f"s3://{BUCKET}/sentiment-app/models/bundled-")
    (archive,) = s3_objects(url).values()
    served = extract(archive, tmp_path / "served")
    assert (served / "code" / "inference.py").is_file() and (served / "code" / "sentiment_app" / "cli" / "__init__.py").is_file()
    assert load_model_dir(served).version == load_model_dir(bundled).version  # same weights, manifest intact

    aws.clear()  # an archive that already has code/ is used where it is
    cli("deploy", "again", "--model-data", url)
    assert aws.params("CreateModel")[0]["PrimaryContainer"]["ModelDataUrl"] == url


def test_distributed_training_request(aws: Recorder) -> None:
    put_s3(f"s3://{BUCKET}/sentiment-app/data/meta.json", json.dumps({"vocab_size": 77}).encode())
    aws.containers = False  # the request is the point here; two-process training has its own tests
    cli("train", "--job-name", "ddp", "--instance-count", "2", "--instance-type", "ml.g4dn.xlarge", "--epochs", "1",
        "--no-wait")
    assert aws.operations() == ["CreateTrainingJob"]  # --no-wait: no polling
    (request,) = aws.params("CreateTrainingJob")
    assert request["HyperParameters"]["sagemaker_torch_distributed_enabled"] == "true"
    assert request["HyperParameters"]["sagemaker_instance_type"] == '"ml.g4dn.xlarge"'
    assert request["ResourceConfig"]["InstanceCount"] == 2
    assert request["HyperParameters"]["vocab-size"] == "77"  # from the uploaded data's meta.json
    assert request["AlgorithmSpecification"]["TrainingImage"].endswith("/pytorch-training:2.8.0-gpu-py312")


def test_status_delete_and_cleanup(aws: Recorder) -> None:
    cli("deploy", "first", "--instance-type", "ml.m5.large")
    cli("deploy", "second", "--instance-type", "ml.c5.xlarge", "--instance-count", "2")
    sm = boto3.client("sagemaker", region_name=REGION)  # a resource without the tag is never touched
    sm.create_model(ModelName="not-ours", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "x"})

    status = last_json(cli("status", "--json"))
    by_kind = {(r["kind"], r["name"].split("-")[0]): r for r in status["resources"]}
    assert sorted(by_kind) == sorted((kind, name) for kind in ("endpoint", "endpoint-config", "model")
                                     for name in ("first", "second"))
    second = by_kind[("endpoint", "second")]
    assert (second["status"], second["instance_type"], second["instance_count"]) == ("InService", "ml.c5.xlarge", 2)
    assert second["hourly_cost_usd"] == pytest.approx(0.408) and second["uptime_seconds"] >= 0
    assert status["total_hourly_cost_usd"] == pytest.approx(0.115 + 0.408)
    assert by_kind[("model", "first")]["running"] is False
    table = cli("status")
    assert len(table.splitlines()) == 7 and "estimated total for what is running: $0.523/h" in table
    assert re.search(r"endpoint +second +InService +2 × ml.c5.xlarge .* \$0.408/h", table) and "(not billing)" in table

    aws.clear()
    out = cli("delete", "first")
    config_name = by_kind[("endpoint-config", "first")]["name"]
    assert aws.calls == [("DescribeEndpoint", {"EndpointName": "first"}), ("DeleteEndpoint", {"EndpointName": "first"}),
                         ("DescribeEndpointConfig", {"EndpointConfigName": config_name}),
                         ("DeleteEndpointConfig", {"EndpointConfigName": config_name}),
                         ("DeleteModel", {"ModelName": by_kind[("model", "first")]["name"]})]
    assert out.splitlines()[0] == "deleted endpoint first"
    second_only = {kind: [by_kind[(kind, "second")]["name"]] for kind in ("endpoint", "endpoint-config", "model")}
    assert tagged_leftovers() == second_only

    aws.clear()
    out = cli("cleanup", input="n\n", code=1)  # answered no: nothing changes
    assert "Aborted" in out and not [op for op in aws.operations() if op.startswith("Delete")]
    assert tagged_leftovers() == second_only

    aws.clear()
    out = cli("cleanup", "--yes")
    assert [op for op in aws.operations() if op.startswith("Delete")] == \
        ["DeleteEndpoint", "DeleteEndpointConfig", "DeleteModel"]
    assert tagged_leftovers() == {"endpoint": [], "endpoint-config": [], "model": []}
    assert [m["ModelName"] for m in sm.list_models()["Models"]] == ["not-ours"]
    assert last_json(cli("status", "--json"))["resources"] == []


def endpoint_state(status: str, reason: str | None = None) -> dict[str, Any]:
    return {"EndpointName": "waiting", "EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/waiting",
            "EndpointConfigName": "c", "EndpointStatus": status, "CreationTime": "2026-01-01T00:00:00Z",
            "LastModifiedTime": "2026-01-01T00:00:00Z", **({"FailureReason": reason} if reason else {})}


def test_deploy_waits_through_creating_until_in_service(aws: Recorder) -> None:
    aws.scripted["DescribeEndpoint"] = [endpoint_state("Creating"), endpoint_state("Creating"),
                                        endpoint_state("InService")]
    out = cli("deploy", "waiting")
    assert aws.operations()[-3:] == ["DescribeEndpoint"] * 3 and not aws.scripted["DescribeEndpoint"]
    assert "endpoint waiting is InService" in out


def test_deploy_reports_a_failed_endpoint_and_how_to_remove_it(aws: Recorder) -> None:
    aws.scripted["DescribeEndpoint"] = [endpoint_state("Creating"), endpoint_state("Failed", "Image pull failed.")]
    out = cli("deploy", "waiting", code=1)
    assert aws.operations()[-2:] == ["DescribeEndpoint"] * 2
    assert out.strip().splitlines()[-1] == ("error: endpoint waiting is Failed: Image pull failed.; remove it with: "
                                            "sentiment-app aws delete waiting --region us-east-1")


def test_aws_errors_and_missing_settings_are_one_line(aws: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    out = cli("delete", "no-such-endpoint", code=1)
    assert out.splitlines() == ["error: AWS DescribeEndpoint: ValidationException: Could not find endpoint "
                                "'arn:aws:sagemaker:us-east-1:123456789012:endpoint/no-such-endpoint'."]
    out = cli("train", "--job-name", "nodata", code=1)
    assert "run `sentiment-app aws upload` first" in out and not aws.params("CreateTrainingJob")
    monkeypatch.delenv("SENTIMENT_APP_SAGEMAKER_ROLE")
    assert "No SageMaker execution role: pass --role ARN" in cli("deploy", "x", code=1)
    assert "must be an IAM role ARN" in cli("deploy", "x", "--role", "admin", code=1)
    monkeypatch.delenv("SENTIMENT_APP_BUCKET")
    assert "No S3 bucket: pass --bucket" in cli("train", "--role", ROLE, code=1)
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert "No AWS region: pass --region" in cli("status", code=1)
    assert "Invalid endpoint name 'bad_name'" in cli("deploy", "bad_name", "--region", REGION, "--bucket", BUCKET,
                                                     "--role", ROLE, code=1)
