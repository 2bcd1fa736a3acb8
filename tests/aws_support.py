"""An AWS account on moto's standalone server, reached the way the commands reach AWS: through
``AWS_ENDPOINT_URL`` alone. moto keeps the control plane and runs no containers, so they are played
on the client side, hooked on the real calls: the training and transform jobs by
``tests.sagemaker_containers`` (through :class:`Recorder`), and an endpoint's answer to
InvokeEndpoint by the inference toolkit's ``Transformer`` over the archive of the endpoint's model."""

from __future__ import annotations

import io
import json
import os
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from click.testing import CliRunner

from sentiment_app.cli import main
from tests.support import free_port


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's standalone AWS-API server on a free loopback port (the AWS cloud cannot run here)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
BUCKET = "sentiment-test-bucket"


def aws_cli(*args: str, input: str | None = None, code: int = 0) -> str:
    """``sentiment-app aws ARGS`` in-process, asserting its exit status; its output."""
    result = CliRunner().invoke(main, ["aws", *args], input=input, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def last_json(output: str) -> dict[str, Any]:
    return json.loads(output.strip().splitlines()[-1])


def s3_objects(uri: str) -> dict[str, bytes]:
    """Every object under an ``s3://`` prefix, by key."""
    import boto3

    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    s3 = boto3.client("s3", region_name=REGION)
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for o in page.get("Contents", [])]
    return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def put_s3(uri: str, data: bytes) -> None:
    import boto3

    bucket, _, key = uri.removeprefix("s3://").partition("/")
    boto3.client("s3", region_name=REGION).put_object(Bucket=bucket, Key=key, Body=data)


def extract(data: bytes, target: Path) -> Path:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(target, filter="data")
    return target


@dataclass
class Recorder:
    """The SageMaker (and Application Auto Scaling) calls the commands make, as (operation, API
    parameters), in order."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    scripted: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    containers: bool = True

    def record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, json.loads(json.dumps(params, default=str))))

    def answer_scripted(self, model: Any, **_: Any) -> tuple[Any, dict[str, Any]] | None:
        """The next scripted answer for this operation instead of moto's (whose resources never change state)."""
        from botocore.awsrequest import AWSResponse

        queue = self.scripted.get(model.name)
        return (AWSResponse("", 200, {}, None), queue.pop(0)) if queue else None

    def run_container(self, model: Any, http_response: Any, **_: Any) -> None:
        from tests.sagemaker_containers import CONTAINERS

        if self.containers and model.name in CONTAINERS and http_response.status_code == 200:
            CONTAINERS[model.name](self.params(model.name)[-1])

    def operations(self, *, skip: tuple[str, ...] = ("ListTags",)) -> list[str]:
        return [name for name, _ in self.calls if name not in skip]

    def params(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == operation]

    def clear(self) -> None:
        self.calls.clear()


@contextmanager
def recording_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Recorder]:
    """moto in-process with dummy credentials, a bucket, and every session the commands open recording."""
    import boto3
    from moto import mock_aws

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
            self.events.register("provide-client-params.application-autoscaling", recorder.record)
            self.events.register("before-call.sagemaker", recorder.answer_scripted)
            self.events.register("after-call.sagemaker", recorder.run_container)

    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        monkeypatch.setattr(boto3, "Session", RecordingSession)
        yield recorder


def serve_invocation(params: dict[str, Any], model: Any, **_: Any) -> tuple[Any, dict[str, Any]] | None:
    """InvokeEndpoint answered by the endpoint's (first variant's) model, as its serving container would."""
    import boto3
    from botocore.awsrequest import AWSResponse
    from botocore.response import StreamingBody

    from tests.sagemaker_containers import ServingContainer

    if model.name != "InvokeEndpoint":
        return None
    endpoint = unquote(params["url_path"].split("/")[2])
    sm = boto3.session.Session().client("sagemaker", region_name=REGION)  # unrecorded: not the command's call
    config = sm.describe_endpoint_config(EndpointConfigName=sm.describe_endpoint(EndpointName=endpoint)
                                         ["EndpointConfigName"])
    container = sm.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])["PrimaryContainer"]
    headers = params["headers"]
    with tempfile.TemporaryDirectory() as tmp:
        (archive,) = s3_objects(container["ModelDataUrl"]).values()
        serving = ServingContainer(extract(archive, Path(tmp)))
        status, answer, content_type = serving.invoke(params["body"], headers["Content-Type"], headers["Accept"])
    assert status == 200, answer
    data = answer.encode() if isinstance(answer, str) else answer
    return AWSResponse("", 200, {}, None), {"Body": StreamingBody(io.BytesIO(data), len(data)),
                                             "ContentType": content_type, "InvokedProductionVariant": "AllTraffic"}


@contextmanager
def recording_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str) -> Iterator[Recorder]:
    """The commands' environment pointed at the server at ``url`` (dummy credentials, a bucket, quick
    polling), every session they open recording its SageMaker calls and playing the containers."""
    import boto3

    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in {"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION, "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
                        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
                        "SENTIMENT_APP_AWS_POLL_SECONDS": "0", "SENTIMENT_APP_SAGEMAKER_ROLE": ROLE,
                        "SENTIMENT_APP_BUCKET": BUCKET, "SENTIMENT_APP_HOME": str(tmp_path / "home")}.items():
        monkeypatch.setenv(name, value)
    boto3.session.Session().client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
    recorder = Recorder()

    class RecordingSession(boto3.session.Session):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            for service in ("sagemaker", "sagemaker-runtime", "application-autoscaling"):
                self.events.register(f"provide-client-params.{service}", recorder.record)
            self.events.register("before-call.sagemaker", recorder.answer_scripted)
            self.events.register("after-call.sagemaker", recorder.run_container)
            self.events.register("before-call.sagemaker-runtime", serve_invocation)

    monkeypatch.setattr(boto3, "Session", RecordingSession)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    yield recorder
