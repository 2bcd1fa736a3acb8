"""The ``aws`` commands against moto in-process: the exact calls, their arguments and their order.

moto keeps the control plane (jobs complete at once, nothing runs); ``tests.aws_support.Recorder`` records
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
from sentiment_app.artifacts.versions import PENDING, read_versions, record_metrics, register
from sentiment_app.aws.inventory import PROJECT_TAGS, TAG_KEY, TAG_VALUE
from sentiment_app.settings import load_settings
from tests.aws_support import BUCKET, REGION, ROLE, Recorder, aws_cli, extract, last_json, put_s3, s3_objects

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


def training_archive() -> bytes:
    """The small bundled model as a training job writes it: the model files at the root, no code/."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for name in (*ARTIFACT_FILES, MANIFEST):
            tar.add(Path(SMALL_MODEL) / name, arcname=name)
    return raw.getvalue()


def test_training_archive_is_repacked_with_inference_code(aws: Recorder, tmp_path: Path) -> None:
    """A training job's model.tar.gz has no code/: deploy uploads model + code/ and serves that."""
    bundled = bundled_model_dir("lstm-seed")
    put_s3(f"s3://{BUCKET}/elsewhere/model.tar.gz", training_archive())
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


def test_several_cpu_instances_train_without_torch_distributed(aws: Recorder) -> None:
    """The SDK refuses torch_distributed on CPU instances: the entry point joins the hosts itself."""
    put_s3(f"s3://{BUCKET}/sentiment-app/data/meta.json", json.dumps({"vocab_size": 77}).encode())
    aws.containers = False
    aws_cli("train", "--job-name", "cpus", "--instance-count", "2", "--epochs", "1", "--no-wait")
    (request,) = aws.params("CreateTrainingJob")
    assert request["ResourceConfig"] == {"InstanceType": "ml.m5.xlarge", "InstanceCount": 2, "VolumeSizeInGB": 10}
    assert not [key for key in request["HyperParameters"] if "distributed" in key or key == "sagemaker_instance_type"]
    assert request["AlgorithmSpecification"]["TrainingImage"].endswith("/pytorch-training:2.8.0-cpu-py312")


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
    assert aws.calls == [("DescribeEndpoint", {"EndpointName": "first"}),
                         ("DescribeScalableTargets", {"ServiceNamespace": "sagemaker"}),  # no autoscaling to remove
                         ("DeleteEndpoint", {"EndpointName": "first"}),
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


# -- serverless, autoscaling, variants, shadow, capture, model packages, registration -----------------
# moto 5.2.1 keeps all of these (application-autoscaling included) except a config's
# ShadowProductionVariants, which it accepts and drops: the shadow's request is checked here as sent
# (botocore validates it against the service model first), its removal with Stubber in test_aws.py.

def created(aws: Recorder) -> list[str]:
    return [op for op in aws.operations() if op.startswith(("Create", "Register", "Put"))]


def test_a_serverless_endpoint_runs_on_no_instances_and_costs_nothing_idle(aws: Recorder) -> None:
    out = aws_cli("deploy", "quiet", "--model", SMALL_MODEL, "--serverless", "--memory-mb", "3072",
                  "--max-concurrency", "20")
    name = aws.params("CreateModel")[0]["ModelName"]
    (config,) = aws.params("CreateEndpointConfig")
    assert config == {"EndpointConfigName": name, "Tags": PROJECT_TAGS, "ProductionVariants": [
        {"VariantName": "AllTraffic", "ModelName": name, "InitialVariantWeight": 1.0,
         "ServerlessConfig": {"MemorySizeInMB": 3072, "MaxConcurrency": 20}}]}
    assert aws.params("CreateModel")[0]["PrimaryContainer"]["Image"].endswith("/pytorch-inference:2.6.0-cpu-py312")
    assert "serverless, 3072 MB, up to 20 concurrent requests" in out
    assert "estimated cost: $0/h while idle, $0.00006/s of compute while serving (billed per request)" in out

    status = last_json(aws_cli("status", "--json"))
    (live,) = [r for r in status["resources"] if r["kind"] == "endpoint"]
    assert live["serverless"] == {"memory_mb": 3072, "max_concurrency": 20, "usd_per_second_serving": 0.00006}
    assert (live["instance_type"], live["hourly_cost_usd"], status["total_hourly_cost_usd"]) == (None, 0.0, 0.0)
    assert re.search(r"endpoint +quiet +InService +serverless 3072 MB .*\$0/h while idle.*; up to 20 concurrent",
                     aws_cli("status"))


def test_autoscaling_is_registered_once_in_service_and_removed_before_the_endpoint(aws: Recorder) -> None:
    out = aws_cli("deploy", "busy", "--model", SMALL_MODEL, "--instance-count", "2", "--min-instances", "1",
                  "--max-instances", "4", "--target-invocations", "50")
    assert aws.operations()[-3:] == ["DescribeEndpoint", "RegisterScalableTarget", "PutScalingPolicy"]
    target = {"ServiceNamespace": "sagemaker", "ResourceId": "endpoint/busy/variant/AllTraffic",
              "ScalableDimension": "sagemaker:variant:DesiredInstanceCount"}
    assert aws.params("RegisterScalableTarget") == [{**target, "MinCapacity": 1, "MaxCapacity": 4,
                                                     "Tags": {TAG_KEY: TAG_VALUE}}]
    assert aws.params("PutScalingPolicy") == [{**target, "PolicyName": "sentiment-app-invocations",
                                               "PolicyType": "TargetTrackingScaling",
                                               "TargetTrackingScalingPolicyConfiguration": {
                                                   "TargetValue": 50.0, "ScaleInCooldown": 300, "ScaleOutCooldown": 60,
                                                   "PredefinedMetricSpecification": {
                                                       "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}}}]
    assert "autoscaling: 1 to 4 instances per variant, holding 50 invocations per instance per minute" in out
    assert "estimated cost: $0.230/h now, $0.115/h to $0.460/h as it scales, until deleted" in out
    scaling = boto3.client("application-autoscaling", region_name=REGION)
    (registered,) = scaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
    assert (registered["ResourceId"], registered["MinCapacity"], registered["MaxCapacity"]) == (target["ResourceId"], 1, 4)

    status = last_json(aws_cli("status", "--json"))
    (live,) = [r for r in status["resources"] if r["kind"] == "endpoint"]
    assert live["scaling"] == [{"variant": "AllTraffic", "min_instances": 1, "max_instances": 4,
                                "target_invocations": 50.0}]
    assert "; AllTraffic scales 1-4 instances at 50 invocations/instance/min" in aws_cli("status")

    aws.clear()
    out = aws_cli("delete", "busy")
    assert [op for op in aws.operations() if not op.startswith("Describe")] == [
        "DeleteScalingPolicy", "DeregisterScalableTarget", "DeleteEndpoint", "DeleteEndpointConfig", "DeleteModel"]
    assert out.splitlines()[:3] == ["deleted scaling-policy sentiment-app-invocations (endpoint/busy/variant/AllTraffic)",
                                    "deleted scalable-target endpoint/busy/variant/AllTraffic", "deleted endpoint busy"]
    assert scaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"] == []

    aws_cli("deploy", "busy-again", "--model", SMALL_MODEL, "--max-instances", "2")
    aws.clear()
    aws_cli("cleanup", "--yes")
    assert [op for op in aws.operations() if op.startswith(("Delete", "Deregister"))] == [
        "DeleteScalingPolicy", "DeregisterScalableTarget", "DeleteEndpoint", "DeleteEndpointConfig", "DeleteModel"]
    assert scaling.describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"] == []


def test_weighted_variants_with_data_capture_then_new_weights(aws: Recorder) -> None:
    put_s3(f"s3://{BUCKET}/elsewhere/model.tar.gz", training_archive())
    out = aws_cli("deploy", "ab", "--variant", f"a={SMALL_MODEL}:3", "--variant", f"b=s3://{BUCKET}/elsewhere/model.tar.gz",
                  "--capture-percent", "25")
    models = [m["ModelName"] for m in aws.params("CreateModel")]
    name = models[0].removesuffix("-1")
    assert models == [f"{name}-1", f"{name}-2"]
    assert [m["PrimaryContainer"]["ModelDataUrl"] for m in aws.params("CreateModel")] == [
        f"s3://{BUCKET}/sentiment-app/models/{model}/model.tar.gz" for model in models]
    instances = {"InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
    assert aws.params("CreateEndpointConfig") == [{
        "EndpointConfigName": name, "Tags": PROJECT_TAGS,
        "ProductionVariants": [{"VariantName": "a", "ModelName": models[0], "InitialVariantWeight": 3.0, **instances},
                               {"VariantName": "b", "ModelName": models[1], "InitialVariantWeight": 1.0, **instances}],
        "DataCaptureConfig": {"EnableCapture": True, "InitialSamplingPercentage": 25,
                              "DestinationS3Uri": f"s3://{BUCKET}/sentiment-app/datacapture",
                              "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
                              "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"],
                                                           "JsonContentTypes": ["application/json"]}}}]
    assert "1 × ml.m5.large per variant" in out and "weight 3 (75% of requests)" in out and "weight 1 (25% of requests)" in out
    assert f"data capture: 25% of requests and answers to s3://{BUCKET}/sentiment-app/datacapture/ab/<variant>/" in out
    assert "estimated cost: $0.230/h until deleted" in out  # two variants, one instance each

    aws.clear()
    out = aws_cli("update-weights", "ab", "a=1", "b=1")
    assert aws.operations() == ["DescribeEndpoint", "UpdateEndpointWeightsAndCapacities", "DescribeEndpoint"]
    assert aws.params("UpdateEndpointWeightsAndCapacities") == [{"EndpointName": "ab", "DesiredWeightsAndCapacities": [
        {"VariantName": "a", "DesiredWeight": 1.0}, {"VariantName": "b", "DesiredWeight": 1.0}]}]
    assert out.splitlines()[:2] == ["variant a: weight 1 (50% of requests)", "variant b: weight 1 (50% of requests)"]
    assert "endpoint ab is InService" in out
    live = boto3.client("sagemaker", region_name=REGION).describe_endpoint(EndpointName="ab")["ProductionVariants"]
    assert [(v["VariantName"], v["CurrentWeight"]) for v in live] == [("a", 1.0), ("b", 1.0)]

    aws.clear()
    assert aws_cli("update-weights", "ab", "c=1", code=1).splitlines() == [
        "error: Endpoint ab has no variant c; its variants are a, b."]
    assert "weight above 0" in aws_cli("update-weights", "ab", "a=0", "b=0", code=1)
    assert "not a number" in aws_cli("update-weights", "ab", "a=half", code=1)
    assert "is not NAME=WEIGHT" in aws_cli("update-weights", "ab", "a", code=1)
    assert "UpdateEndpointWeightsAndCapacities" not in aws.operations()
    assert "error: AWS DescribeEndpoint: ValidationException: Could not find endpoint" in aws_cli(
        "update-weights", "gone", "a=1", code=1)


def test_a_shadow_variant_beside_the_production_one(aws: Recorder) -> None:
    """The shadow's model is a training job's: MODEL as `training-job:NAME`."""
    put_s3(f"s3://{BUCKET}/sentiment-app/data/meta.json", json.dumps({"vocab_size": 77}).encode())
    put_s3(f"s3://{BUCKET}/sentiment-app/output/candidate-job/output/model.tar.gz", training_archive())
    aws.containers = False
    aws_cli("train", "--job-name", "candidate-job", "--no-wait")
    aws.clear()
    out = aws_cli("deploy", "shadowed", "--model", SMALL_MODEL, "--shadow-variant", "candidate=training-job:candidate-job",
                  "--instance-type", "ml.c5.large")
    assert aws.params("DescribeTrainingJob") == [{"TrainingJobName": "candidate-job"}]
    (config,) = aws.params("CreateEndpointConfig")
    name = config["EndpointConfigName"]
    assert aws.params("CreateModel")[1]["PrimaryContainer"]["ModelDataUrl"] == \
        f"s3://{BUCKET}/sentiment-app/models/{name}-2/model.tar.gz"  # repacked with code/
    instances = {"InitialInstanceCount": 1, "InstanceType": "ml.c5.large", "InitialVariantWeight": 1.0}
    assert config["ProductionVariants"] == [{"VariantName": "AllTraffic", "ModelName": f"{name}-1", **instances}]
    assert config["ShadowProductionVariants"] == [{"VariantName": "candidate", "ModelName": f"{name}-2", **instances}]
    assert "DataCaptureConfig" not in config
    assert f"shadow variant candidate: model {name}-2" in out and "a copy of every request" in out
    assert "estimated cost: $0.204/h until deleted" in out  # the shadow's instance bills too


def variants_file(tmp_path: Path, document: object, name: str = "variants.json") -> str:
    """The document as a JSON file (a string is written as it is)."""
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return str(path)


def test_a_variants_file_deploys_what_the_same_variant_options_deploy(aws: Recorder, tmp_path: Path) -> None:
    """SageMaker's ``ProductionVariants``/``ShadowProductionVariants`` JSON, ModelName any model source."""
    archive = f"s3://{BUCKET}/elsewhere/model.tar.gz"
    put_s3(archive, training_archive())
    weighted = {"ProductionVariants": [{"VariantName": "a", "ModelName": SMALL_MODEL, "InitialVariantWeight": 3},
                                       {"VariantName": "b", "ModelName": archive}]}
    shadowed = {"ProductionVariants": [{"VariantName": "live", "ModelName": SMALL_MODEL, "InitialVariantWeight": 2}],
                "ShadowProductionVariants": [{"VariantName": "candidate", "ModelName": archive}]}
    cases = [(weighted, ["--variant", f"a={SMALL_MODEL}:3", "--variant", f"b={archive}"]),
             (shadowed, ["--variant", f"live={SMALL_MODEL}:2", "--shadow-variant", f"candidate={archive}"])]
    for n, (document, options) in enumerate(cases):
        deployed = []
        for endpoint, args in ((f"from-file-{n}", ["--variants", variants_file(tmp_path, document)]),
                               (f"from-options-{n}", options)):
            aws.clear()
            out = aws_cli("deploy", endpoint, *args)
            (config,) = aws.params("CreateEndpointConfig")
            name = config["EndpointConfigName"]
            deployed.append((json.dumps(config).replace(name, "NAME"), out.replace(name, "NAME").replace(endpoint, "E")))
        assert deployed[0] == deployed[1]
        assert len(json.loads(deployed[0][0])["ProductionVariants"]) == len(document["ProductionVariants"])
    variants = json.loads(deployed[0][0])
    assert [(v["VariantName"], v["InitialVariantWeight"]) for v in variants["ProductionVariants"]] == [("live", 2.0)]
    assert [v["VariantName"] for v in variants["ShadowProductionVariants"]] == ["candidate"]


def test_a_variants_file_holds_all_the_variants_and_is_checked_first(aws: Recorder, tmp_path: Path) -> None:
    document = variants_file(tmp_path, {"ProductionVariants": [{"VariantName": "a", "ModelName": SMALL_MODEL}]})
    for extra in (["--variant", f"b={SMALL_MODEL}:1"], ["--shadow-variant", f"s={SMALL_MODEL}"]):
        assert aws_cli("deploy", "refused", "--variants", document, *extra, code=1).splitlines() == [
            "error: --variants FILE holds all the variants: leave out --variant and --shadow-variant."]
    assert "error: --variants names every production variant's model: leave out --model." in aws_cli(
        "deploy", "refused", "--variants", document, "--model", SMALL_MODEL, code=1)
    bad = [({"ProductionVariants": []}, "at least one production variant"),
           ({"ProductionVariants": [{"VariantName": "a", "ModelName": "/no/such/model"}]}, "'/no/such/model' does not exist"),
           ({"ProductionVariants": [{"VariantName": "a", "ModelName": SMALL_MODEL, "InstanceType": "ml.m5.large"}]},
            "may have InitialVariantWeight"),
           ("{not json", "Expecting")]
    for n, (content, message) in enumerate(bad):
        out = aws_cli("deploy", "refused", "--variants", variants_file(tmp_path, content, f"bad-{n}.json"), code=2)
        assert "Invalid value for --variants" in out and message in out, out
    assert "does not exist" in aws_cli("deploy", "refused", "--variants", str(tmp_path / "missing.json"), code=2)
    assert aws.operations() == []
    # a training job is a model source here (not for a local endpoint): the document is accepted and the job looked up
    job = variants_file(tmp_path, {"ProductionVariants": [{"VariantName": "a", "ModelName": "training-job:no-such-job"}]},
                        "job.json")
    assert "error: AWS DescribeTrainingJob" in aws_cli("deploy", "refused", "--variants", job, code=1)
    assert aws.params("DescribeTrainingJob") == [{"TrainingJobName": "no-such-job"}]
    assert created(aws) == []


@pytest.mark.parametrize(("args", "message"), [
    (["--serverless", "--instance-type", "ml.m5.large"], "runs on no instances: leave out --instance-type"),
    (["--memory-mb", "4096"], "--memory-mb and --max-concurrency are for a --serverless endpoint"),
    (["--serverless", "--max-instances", "3"], "cannot have autoscaling (it scales itself)"),
    (["--serverless", "--capture-percent", "10"], "cannot have Data Capture"),
    (["--serverless", "--shadow-variant", f"s={SMALL_MODEL}"], "cannot have a shadow variant"),
    (["--min-instances", "2"], "which needs --max-instances"),
    (["--max-instances", "3", "--no-wait"], "leave out --no-wait"),
    (["--min-instances", "3", "--max-instances", "2"], "1 <= --min-instances <= --max-instances, got 3 and 2"),
    (["--capture-uri", f"s3://{BUCKET}/c"], "--capture-uri needs --capture-percent"),
    (["--capture-percent", "10", "--capture-uri", "/tmp/capture"], "an s3:// destination"),
    (["--variant", f"a={SMALL_MODEL}:1", "--model", SMALL_MODEL], "leave out --model."),
    (["--variant", f"a={SMALL_MODEL}:0", "--variant", f"b={SMALL_MODEL}:0"], "weight above 0"),
    (["--variant", f"a={SMALL_MODEL}:1", "--variant", f"a={SMALL_MODEL}:2"], "repeated: a"),
    (["--variant", f"bad_name={SMALL_MODEL}:1"], "Invalid variant name 'bad_name'"),
    (["--model", SMALL_MODEL, "--shadow-variant", f"s={SMALL_MODEL}", "--shadow-variant", f"t={SMALL_MODEL}"],
     "beside exactly one production variant, and only one"),
    (["--variant", f"a={SMALL_MODEL}:1", "--variant", f"b={SMALL_MODEL}:1", "--shadow-variant", f"s={SMALL_MODEL}"],
     "beside exactly one production variant, and only one"),
])
def test_impossible_endpoints_are_refused_before_anything_is_created(aws: Recorder, args: list[str],
                                                                     message: str) -> None:
    assert message in aws_cli("deploy", "refused", *args, code=1)
    assert aws.operations() == []


@pytest.mark.parametrize(("args", "message"), [
    (["--serverless", "--memory-mb", "1500"], "'1500' is not one of"),
    (["--variant", "a"], "'a' is not NAME=MODEL:WEIGHT"),
    (["--variant", "a=/no/such/model:1"], "'/no/such/model' does not exist"),
    (["--capture-percent", "0"], "0 is not in the range 1<=x<=100"),
])
def test_malformed_deploy_options_are_usage_errors(aws: Recorder, args: list[str], message: str) -> None:
    assert message in aws_cli("deploy", "refused", *args, code=2)
    assert aws.operations() == []


def test_register_creates_the_group_once_and_carries_a_versions_metrics(aws: Recorder) -> None:
    settings = load_settings()
    version = register(settings, Path(SMALL_MODEL))
    record_metrics(settings, Path(SMALL_MODEL), {"accuracy": 0.85, "short": {"yelp": 0.7}})
    result = last_json(aws_cli("register", "--model", "1", "--approval-status", "Approved", "--json"))
    assert aws.operations() == ["DescribeModelPackageGroup", "CreateModelPackageGroup", "CreateModelPackage"]
    assert aws.params("CreateModelPackageGroup") == [{"ModelPackageGroupName": "sentiment-app", "Tags": PROJECT_TAGS,
                                                      "ModelPackageGroupDescription": "IMDB sentiment models (sentiment-app)"}]
    (request,) = aws.params("CreateModelPackage")
    model_data = request["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
    assert model_data.startswith(f"s3://{BUCKET}/sentiment-app/models/sentiment-app-") and model_data.endswith(".tar.gz")
    metadata = request.pop("CustomerMetadataProperties")
    assert request == {
        "ModelPackageGroupName": "sentiment-app", "ModelApprovalStatus": "Approved", "Tags": PROJECT_TAGS,
        "ModelPackageDescription": "lstm-seed model, local registry version 1",
        "InferenceSpecification": {
            "Containers": [{"Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.6.0-cpu-py312",
                            "ModelDataUrl": model_data, "Environment": {
                                "SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
                                "SAGEMAKER_CONTAINER_LOG_LEVEL": "20", "SAGEMAKER_REGION": REGION}}],
            "SupportedContentTypes": ["text/plain", "application/json", "text/csv"],
            "SupportedResponseMIMETypes": ["application/json", "text/plain"],
            "SupportedRealtimeInferenceInstanceTypes": ["ml.m5.large"], "SupportedTransformInstanceTypes": ["ml.m5.large"]}}
    assert {"registry_version": "1", "family": "lstm-seed", "model_version": version["model_version"],
            "accuracy": "0.85", "short.yelp": "0.7"}.items() <= metadata.items()
    assert (result["package_version"], result["registry_version"], result["approval_status"]) == (1, 1, "Approved")

    aws.clear()  # the group exists now; an S3 archive is no registry version: no metadata
    result = last_json(aws_cli("register", "--model-data", model_data, "--json"))
    assert aws.operations() == ["DescribeModelPackageGroup", "CreateModelPackage"]
    (request,) = aws.params("CreateModelPackage")
    assert "CustomerMetadataProperties" not in request and request["ModelPackageDescription"] == \
        f"sentiment model from {model_data}"
    assert (result["package_version"], result["registry_version"]) == (2, None)
    packages = boto3.client("sagemaker", region_name=REGION).list_model_packages(ModelPackageGroupName="sentiment-app")
    assert sorted(p["ModelApprovalStatus"] for p in packages["ModelPackageSummaryList"]) == \
        ["Approved", "PendingManualApproval"]


def test_a_finished_training_job_is_fetched_and_registered_pending_approval(aws: Recorder) -> None:
    put_s3(f"s3://{BUCKET}/sentiment-app/data/meta.json", json.dumps({"vocab_size": 77}).encode())
    aws.containers = False  # the job's model.tar.gz is put in place by hand
    result = last_json(aws_cli("train", "--job-name", "no-model", "--epochs", "1", "--json"))
    assert result["model_dir"] is None and "version" not in result  # the job wrote nothing: nothing to register

    put_s3(f"s3://{BUCKET}/sentiment-app/output/trained/output/model.tar.gz", training_archive())
    out = aws_cli("train", "--job-name", "trained", "--epochs", "1", "--json")
    settings = load_settings()
    result = last_json(out)
    assert result["model_dir"] == str(settings.home / "models" / "trained") and result["version"] == 1
    assert f"registered {result['model_dir']} as version 1 (PendingManualApproval)" in out
    (version,) = read_versions(settings)
    assert (version["family"], version["status"], version["model_dir"]) == ("lstm-seed", PENDING, result["model_dir"])
    assert load_model_dir(Path(result["model_dir"])).version == load_model_dir(Path(SMALL_MODEL)).version


def service_enum(shape: str) -> set[str]:
    """An enum of botocore's SageMaker model, read here independently of the code under test."""
    import botocore.session

    return set(botocore.session.get_session().get_service_model("sagemaker").shape_for(shape).enum)


def instance_type_options() -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(command, option, enum shape, defaults) of every instance-type option of the ``aws`` commands."""
    from sentiment_app.cli.aws import aws as group
    from sentiment_app.cli.aws.options import InstanceType

    return [(name, param.opts[0], param.type.shape, tuple(param.default) if param.multiple else (param.default,))
            for name, command in group.commands.items() for param in command.params
            if isinstance(param.type, InstanceType)]


def test_every_default_instance_type_is_one_the_service_takes_for_its_use() -> None:
    options = instance_type_options()
    assert {(command, option, shape) for command, option, shape, _ in options} == {
        ("train", "--instance-type", "TrainingInstanceType"),
        ("transform", "--instance-type", "TransformInstanceType"),
        ("deploy", "--instance-type", "ProductionVariantInstanceType"),
        ("register", "--realtime-instance-type", "ProductionVariantInstanceType"),
        ("register", "--transform-instance-type", "TransformInstanceType")}
    for command, option, shape, defaults in options:
        assert defaults and set(defaults) <= service_enum(shape), (command, option, defaults)


def test_register_takes_its_real_time_and_transform_types_apart(aws: Recorder) -> None:
    assert "ml.c5.large" in service_enum("ProductionVariantInstanceType")  # a real-time type ...
    assert "ml.c5.large" not in service_enum("TransformInstanceType")  # ... that batch transform refuses
    refused = aws_cli("register", "--model", SMALL_MODEL, "--transform-instance-type", "ml.c5.large", code=2)
    assert "Invalid value for '--transform-instance-type': SageMaker takes no 'ml.c5.large' for batch transform" \
        in refused and "ml.c5.xlarge" in refused  # a close type it does take
    assert "SageMaker takes no 'ml.m5.huge' for endpoints" in aws_cli(
        "register", "--model", SMALL_MODEL, "--realtime-instance-type", "ml.m5.huge", code=2)
    mixed = aws_cli("register", "--model", SMALL_MODEL, "--realtime-instance-type", "ml.g4dn.xlarge", code=1)
    assert "mix CPU and GPU" in mixed
    assert aws.operations() == []  # refused before anything is created

    aws_cli("register", "--model", SMALL_MODEL, "--realtime-instance-type", "ml.c5.large",
            "--realtime-instance-type", "ml.t2.medium", "--transform-instance-type", "ml.c5.xlarge")
    (request,) = aws.params("CreateModelPackage")
    spec = request["InferenceSpecification"]
    assert spec["SupportedRealtimeInferenceInstanceTypes"] == ["ml.c5.large", "ml.t2.medium"]
    assert spec["SupportedTransformInstanceTypes"] == ["ml.c5.xlarge"]
    assert spec["Containers"][0]["Image"].endswith("/pytorch-inference:2.6.0-cpu-py312")


UNLABELED = ["A joy from start to end.", "Dull.", "Great cast, weak plot.", "Loved it!", "Awful film.", "Fine."]


def tiny_data(folder: Path) -> Path:
    """Both labeled splits and six unlabeled reviews, in the CSV form."""
    import gzip

    from tests.data_support import TINY_TEST, TINY_TRAIN, csv_gz

    folder.mkdir()
    (folder / "train.csv.gz").write_bytes(csv_gz(TINY_TRAIN))
    (folder / "test.csv.gz").write_bytes(csv_gz(TINY_TEST))
    (folder / "unsup.csv.gz").write_bytes(gzip.compress(
        ("id,text\n" + "".join(f'{i},"{text}"\n' for i, text in enumerate(UNLABELED))).encode()))
    return folder


def test_train_sends_a_teacher_and_an_encoder_as_channels_of_their_own(aws: Recorder, tmp_path: Path) -> None:
    import csv

    import torch

    from sentiment_app.artifacts.model_dir import save_model_dir
    from sentiment_app.inference.model import SentimentModel

    data, encoder = tiny_data(tmp_path / "data"), tmp_path / "encoder"
    save_model_dir(encoder, {"w": torch.zeros(1)}, {"model": "encoder"}, {}, {}, "data")
    put_s3(f"s3://{BUCKET}/sentiment-app/data-text/meta.json", json.dumps({"kind": "text"}).encode())
    aws.containers = False
    refused = aws_cli("train", "--family", "nbsvm", "--teacher", SMALL_MODEL, "--data", str(data), code=1)
    assert "nbsvm takes no teacher" in refused and aws.operations() == []

    aws_cli("train", "--family", "encoder-stack", "--job-name", "distilled", "--teacher", SMALL_MODEL,
            "--encoder", str(encoder), "--data", str(data), "--max-reviews", "4", "--no-wait")
    (request,) = aws.params("CreateTrainingJob")
    channels = {c["ChannelName"]: c for c in request["InputDataConfig"]}
    assert list(channels) == ["training", "validation", "teacher", "encoder"]
    folders = {name: c["DataSource"]["S3DataSource"]["S3Uri"] for name, c in channels.items()}
    assert folders["teacher"] == f"s3://{BUCKET}/sentiment-app/jobs/distilled/inputs/teacher/"
    assert folders["encoder"] == f"s3://{BUCKET}/sentiment-app/jobs/distilled/inputs/encoder/"
    assert "ContentType" not in channels["encoder"] and channels["training"]["ContentType"] == "text/csv"

    (teacher_csv,) = s3_objects(folders["teacher"]).values()  # the teacher's labels of a sample of 4
    rows = [row for row in csv.reader(teacher_csv.decode().splitlines()) if row[0] in ("review", "sentence")]
    texts, probabilities = [row[2] for row in rows], [float(row[1]) for row in rows]
    reviews = [text for (kind, _, text) in rows if kind == "review"]
    assert len(reviews) == 4 and set(reviews) <= set(UNLABELED)
    expected = SentimentModel.load(Path(SMALL_MODEL)).predict_proba(texts)
    assert probabilities == pytest.approx(expected.tolist(), abs=1e-4)
    uploaded = {key.rpartition("/")[2]: body for key, body in s3_objects(folders["encoder"]).items()}
    assert uploaded == {path.name: path.read_bytes() for path in encoder.iterdir()}  # the model's files as they are
