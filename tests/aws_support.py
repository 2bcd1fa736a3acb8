"""An AWS account on moto's standalone server, reached the way the commands reach AWS: through
``AWS_ENDPOINT_URL`` alone. moto keeps the control plane and runs no containers, so they are played
on the client side, hooked on the real calls: the training and transform jobs by
``tests.sagemaker_containers`` (through ``tests.support.Recorder``), and an endpoint's answer to
InvokeEndpoint by the inference toolkit's ``Transformer`` over the archive of the endpoint's model."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from tests.support import BUCKET, REGION, ROLE, Recorder, extract, s3_objects


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
