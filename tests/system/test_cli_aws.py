"""The real ``sentiment-app aws`` processes pointed at AWS-API servers on loopback through the
standard ``AWS_ENDPOINT_URL`` settings only: moto's standalone server for SageMaker and S3, and the
project's own endpoint server for the SageMaker Runtime. And the whole upload → train → transform →
deploy chain against moto in-process on real reviews, the training container a real process (the
calls and their order: ``tests/unit/test_cli_aws.py``)."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from sentiment_app.artifacts.versions import PENDING, read_versions
from sentiment_app.aws.inventory import PROJECT_TAGS, TAG_KEY, TAG_VALUE
from sentiment_app.cli import main
from sentiment_app.data.dataset import load_imdb, stratified_sample
from sentiment_app.evaluation.metrics import compute_metrics
from sentiment_app.inference.handler import model_fn
from sentiment_app.pipeline import DataOptions, load_splits
from sentiment_app.settings import load_settings
from tests.aws_support import BUCKET, REGION, ROLE, Recorder, aws_cli, extract, last_json, s3_objects
from tests.aws_support import moto_server as start_moto
from tests.data_support import csv_gz
from tests.serving_support import served_app
from tests.support import CLI, NEGATIVE, POSITIVE

REVIEWS_PER_SPLIT = 16


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    with start_moto() as url:
        yield url


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The CLI's environment: dummy credentials, a region, no AWS config files, quick polling."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SENTIMENT_APP_"))}
    return {**base, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
            "SENTIMENT_APP_HOME": str(tmp_path / "home"), "SENTIMENT_APP_AWS_POLL_SECONDS": "0"}


def run(env: dict[str, str], *args: str, input: str | None = None, code: int = 0) -> str:
    result = subprocess.run([CLI, "aws", *args], env=env, input=input, capture_output=True, text=True, timeout=120)
    assert result.returncode == code, result.stdout + result.stderr
    return result.stdout + result.stderr


def tagged(moto_server: str, env: dict[str, str]) -> list[tuple[str, str]]:
    """(kind, name) of every project-tagged endpoint, config and model on the server, asked directly."""
    sm = boto3.client("sagemaker", endpoint_url=moto_server, region_name=env["AWS_DEFAULT_REGION"],
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    listed = [("endpoint", e["EndpointName"], e["EndpointArn"]) for e in sm.list_endpoints()["Endpoints"]]
    listed += [("endpoint-config", c["EndpointConfigName"], c["EndpointConfigArn"])
               for c in sm.list_endpoint_configs()["EndpointConfigs"]]
    listed += [("model", m["ModelName"], m["ModelArn"]) for m in sm.list_models()["Models"]]
    ours = {"Key": TAG_KEY, "Value": TAG_VALUE}
    return sorted((kind, name) for kind, name, arn in listed if ours in sm.list_tags(ResourceArn=arn)["Tags"])


@pytest.mark.slow  # several CLI processes (each imports torch): about 20 s on an idle machine
def test_deploy_status_cleanup_through_the_cli(moto_server: str, env: dict[str, str]) -> None:
    env = {**env, "AWS_ENDPOINT_URL": moto_server}
    bucket = f"sentiment-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1", aws_access_key_id="testing",
                 aws_secret_access_key="testing").create_bucket(Bucket=bucket)

    out = run(env, "deploy", "cli-endpoint", "--bucket", f"s3://{bucket}/cli", "--role", ROLE,
              "--instance-type", "ml.m5.xlarge", "--max-instances", "3")  # Application Auto Scaling on the server too
    assert "endpoint cli-endpoint is InService" in out and "$0.230/h now, $0.230/h to $0.690/h as it scales" in out
    assert "delete it with: sentiment-app aws delete cli-endpoint --region eu-west-1" in out
    ours = tagged(moto_server, env)
    assert [kind for kind, _ in ours] == ["endpoint", "endpoint-config", "model"]
    scaling = boto3.client("application-autoscaling", endpoint_url=moto_server, region_name=env["AWS_DEFAULT_REGION"],
                           aws_access_key_id="testing", aws_secret_access_key="testing")
    (target,) = scaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
    assert (target["ResourceId"], target["MinCapacity"], target["MaxCapacity"]) == \
        ("endpoint/cli-endpoint/variant/AllTraffic", 1, 3)

    status = json.loads(run(env, "status", "--json").splitlines()[-1])
    assert status["region"] == "eu-west-1"
    assert sorted((r["kind"], r["name"]) for r in status["resources"]) == ours
    (live,) = [r for r in status["resources"] if r["kind"] == "endpoint"]
    assert (live["status"], live["instance_type"], live["hourly_cost_usd"]) == ("InService", "ml.m5.xlarge", 0.23)
    assert live["scaling"] == [{"variant": "AllTraffic", "min_instances": 1, "max_instances": 3,
                                "target_invocations": 70.0}]
    assert status["total_hourly_cost_usd"] == 0.23

    out = run(env, "cleanup", input="n\n", code=1)
    assert "Aborted" in out and tagged(moto_server, env) == ours

    out = run(env, "cleanup", "--yes")
    assert out.count("deleted ") == 5  # scaling policy, scalable target, endpoint, config, model
    assert tagged(moto_server, env) == []
    assert scaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"] == []


@pytest.mark.slow  # starts the serving stack: about 10 s on an idle machine
def test_invoke_reaches_a_runtime_endpoint_and_prints_its_answer(env: dict[str, str], tmp_path: Path) -> None:
    with served_app(tmp_path / "serve-home") as app:
        env = {**env, "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": f"http://127.0.0.1:{app.endpoint_port}"}

        def invoke(*args: str, code: int = 0) -> str:  # in-process CLI; the endpoint is a real server
            unset = {k: None for k in os.environ if k.startswith(("AWS_", "SENTIMENT_APP_")) and k not in env}
            result = CliRunner().invoke(main, ["aws", "invoke", *args], env={**env, **unset})
            assert result.exit_code == code, result.output
            return result.output

        answer = json.loads(invoke("local-sentiment", POSITIVE))
        assert answer["label"] == "positive" and answer["probability"] > 0.5
        assert invoke("local-sentiment", NEGATIVE, "--accept", "text/plain").strip() == "0.0"
        assert invoke("no-such-endpoint", POSITIVE, code=1) == (
            "error: AWS InvokeEndpoint: ValidationError: Endpoint no-such-endpoint of account 123456789012 not found.\n")


@pytest.fixture(scope="module")
def small_data(real_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stratified slice of the real IMDB split, in the CSV-pair form, so each command loads it fast."""
    folder = tmp_path_factory.mktemp("imdb-slice")
    for name, reviews in load_imdb(real_data).items():
        (folder / f"{name}.csv.gz").write_bytes(csv_gz(stratified_sample(reviews, REVIEWS_PER_SPLIT, seed=3)))
    return folder


@pytest.mark.slow  # about 25 s idle: two real processes (features, the training entry point) and real scoring
def test_upload_train_transform_deploy_on_real_data(aws: Recorder, small_data: Path) -> None:
    # upload: the prepared data as two channels, plus meta.json
    out = aws_cli("upload", "--data", str(small_data), "--max-reviews", str(REVIEWS_PER_SPLIT), "--prefix", "run1")
    data = s3_objects(f"s3://{BUCKET}/run1/data/")
    assert sorted(data) == [f"run1/data/{k}" for k in
                            ("meta.json", "training/train.csv", "training/word_dict.json", "validation/test.csv")]
    assert len(data["run1/data/training/train.csv"].splitlines()) == REVIEWS_PER_SPLIT
    assert f"s3://{BUCKET}/run1/data/training/train.csv" in out
    meta = json.loads(data["run1/data/meta.json"])

    # train: sourcedir uploaded, one CreateTrainingJob in script mode, waited for, metrics fetched
    out = aws_cli("train", "--prefix", "run1", "--job-name", "train-a", "--epochs", "2", "--batch-size", "8", "--json")
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
    (version,) = read_versions(load_settings())  # fetched into the home and registered, pending approval
    assert (version["version"], version["status"], version["model_dir"]) == (result["version"], PENDING, result["model_dir"])
    assert version["family"] == "lstm-seed"

    # transform: a model made from the training output (repacked with code/), the job, the metrics
    aws.clear()
    out = aws_cli("transform", "--data", str(small_data), "--max-reviews", str(REVIEWS_PER_SPLIT), "--prefix", "run1",
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
    out = aws_cli("deploy", "reviews", "--prefix", "run1", "--training-job", "train-a", "--instance-type", "ml.m5.large")
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


@pytest.mark.slow  # two real processes: the text channel's preparation and the training entry point
def test_a_text_family_uploads_its_own_channel_and_trains_from_it(aws: Recorder, small_data: Path) -> None:
    out = aws_cli("upload", "--data", str(small_data), "--max-reviews", str(REVIEWS_PER_SPLIT), "--prefix", "run2",
                  "--family", "nbsvm-stack")
    data = s3_objects(f"s3://{BUCKET}/run2/")
    assert sorted(data) == [f"run2/data-text/{k}" for k in ("meta.json", "training/train.csv", "validation/test.csv")]
    assert json.loads(data["run2/data-text/meta.json"])["kind"] == "text"
    assert f"s3://{BUCKET}/run2/data-text/training/train.csv" in out
    missing = aws_cli("train", "--prefix", "run2", "--family", "lstm-seed", code=1)
    assert "No processed rows data" in missing  # lstm-seed's channel was not uploaded

    out = aws_cli("train", "--prefix", "run2", "--job-name", "train-text", "--family", "nbsvm-stack",
                  "--hp", "hash_bits=16", "--json")
    (request,) = aws.params("CreateTrainingJob")
    hp = {k: json.loads(v) for k, v in request["HyperParameters"].items()}
    assert hp["family"] == "nbsvm-stack" and hp["hash-bits"] == 16 and "vocab-size" not in hp
    assert [(c["ChannelName"], c["DataSource"]["S3DataSource"]["S3Uri"]) for c in request["InputDataConfig"]] == [
        ("training", f"s3://{BUCKET}/run2/data-text/training/"), ("validation", f"s3://{BUCKET}/run2/data-text/validation/")]
    result = last_json(out)
    assert 0 <= result["metrics"]["val_accuracy"] <= 1  # metrics.json of the model the entry point trained
