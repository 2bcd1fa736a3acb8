"""The real ``sentiment-app aws`` processes pointed at AWS-API servers on loopback through the
standard ``AWS_ENDPOINT_URL`` settings only: moto's standalone server for SageMaker and S3, and the
project's own endpoint server for the SageMaker Runtime."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from sentiment_app.aws.inventory import TAG_KEY, TAG_VALUE
from sentiment_app.cli import main
from tests.support import CLI, NEGATIVE, POSITIVE, served_app
from tests.support import moto_server as start_moto

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"


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
              "--instance-type", "ml.m5.xlarge")
    assert "endpoint cli-endpoint is InService" in out and "$0.230/h" in out
    assert "delete it with: sentiment-app aws delete cli-endpoint --region eu-west-1" in out
    ours = tagged(moto_server, env)
    assert [kind for kind, _ in ours] == ["endpoint", "endpoint-config", "model"]

    status = json.loads(run(env, "status", "--json").splitlines()[-1])
    assert status["region"] == "eu-west-1"
    assert sorted((r["kind"], r["name"]) for r in status["resources"]) == ours
    (live,) = [r for r in status["resources"] if r["kind"] == "endpoint"]
    assert (live["status"], live["instance_type"], live["hourly_cost_usd"]) == ("InService", "ml.m5.xlarge", 0.23)
    assert status["total_hourly_cost_usd"] == 0.23

    out = run(env, "cleanup", input="n\n", code=1)
    assert "Aborted" in out and tagged(moto_server, env) == ours

    out = run(env, "cleanup", "--yes")
    assert out.count("deleted ") == 3
    assert tagged(moto_server, env) == []


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
