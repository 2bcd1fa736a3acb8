"""What SageMaker's containers do with a job, run with AWS's own toolkits as the oracles.

Training: SageMaker writes ``input/config/*.json`` under ``/opt/ml``; the training toolkit
(``sagemaker_training.environment``) reads them and builds the entry point's argv and ``SM_*``
environment; the entry point runs; ``model/`` is tarred out. Batch transform: records are cut at
``\\n`` (``SplitType=Line``) and packed into ``MultiRecord`` payloads of at most ``MaxPayloadInMB``;
each payload goes through the inference toolkit's ``Transformer`` (the serving container's request
path) with the archive's ``code/inference.py``. Only the model server around the Transformer (Java,
not run here) is stood in for, by :class:`ModelServerContext`.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.aws_support import REGION, extract, put_s3, s3_objects

HOST = "algo-1"
TOOLKIT_ENVIRONMENT = """
import json
from sagemaker_training import environment
env = environment.Environment()
print(json.dumps({"argv": env.to_cmd_args(), "env": env.to_env_vars()}))
"""


def write_job_config(base: Path, hyperparameters: dict[str, Any], channels: list[str]) -> None:
    """``input/config`` as SageMaker writes it: every hyperparameter value JSON-encoded (as the
    Python SDK sends them), one host."""
    config = base / "input" / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "hyperparameters.json").write_text(json.dumps({k: json.dumps(v) for k, v in hyperparameters.items()}))
    (config / "inputdataconfig.json").write_text(json.dumps({c: {"TrainingInputMode": "File"} for c in channels}))
    (config / "resourceconfig.json").write_text(json.dumps({"current_host": HOST, "hosts": [HOST]}))
    for channel in channels:
        (base / "input" / "data" / channel).mkdir(parents=True, exist_ok=True)
    (base / "model").mkdir(exist_ok=True)


def toolkit_environment(base: Path) -> tuple[list[str], dict[str, str]]:
    """The argv and the ``SM_*`` variables the training toolkit builds for the job laid out in ``base``."""
    env = {**os.environ, "SAGEMAKER_BASE_DIR": str(base)}
    done = subprocess.run([sys.executable, "-c", TOOLKIT_ENVIRONMENT], env=env, capture_output=True, text=True,
                          timeout=120, check=True)
    built = json.loads(done.stdout.strip().splitlines()[-1])
    return built["argv"], built["env"]


def run_entry_point(base: Path, hyperparameters: dict[str, Any], channels: list[str], code: Path | None = None,
                    program: str = "", timeout_s: float = 600) -> subprocess.CompletedProcess[str]:
    """The entry point run as the training container runs it, with the toolkit's argv and
    environment: ``program`` in the uploaded ``code`` folder, or else the installed package's."""
    write_job_config(base, hyperparameters, channels)
    argv, toolkit_env = toolkit_environment(base)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SM_", "PYTHON"))}
    env.update(toolkit_env, SAGEMAKER_BASE_DIR=str(base))
    script = [program] if code else ["-m", "sentiment_app.training.train"]
    return subprocess.run([sys.executable, *script, *argv], env=env, cwd=code or base, capture_output=True, text=True,
                          timeout=timeout_s)


def training_container(request: dict[str, Any]) -> None:
    """CreateTrainingJob: the uploaded source and the channels from S3, the job's program run with the
    toolkit's argv (``sagemaker_*`` keys are the toolkit's own, not the script's), ``model/`` tarred to S3."""
    hyperparameters = {key: json.loads(value) for key, value in request["HyperParameters"].items()}
    user = {k: v for k, v in hyperparameters.items() if not k.startswith("sagemaker_")}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        channels = [channel["ChannelName"] for channel in request["InputDataConfig"]]
        for channel in request["InputDataConfig"]:
            folder = base / "input" / "data" / channel["ChannelName"]
            folder.mkdir(parents=True, exist_ok=True)
            for key, data in s3_objects(channel["DataSource"]["S3DataSource"]["S3Uri"]).items():
                (folder / key.rpartition("/")[2]).write_bytes(data)
        (source,) = s3_objects(hyperparameters["sagemaker_submit_directory"]).values()
        code = extract(source, base / "code")
        run = run_entry_point(base, user, channels, code, hyperparameters["sagemaker_program"])
        assert run.returncode == 0, run.stderr[-3000:]
        archive = io.BytesIO()
        with tarfile.open(fileobj=archive, mode="w:gz") as tar:
            for path in sorted((base / "model").iterdir()):
                tar.add(path, arcname=path.name)
        name, output = request["TrainingJobName"], request["OutputDataConfig"]["S3OutputPath"]
        put_s3(f"{output}/{name}/output/model.tar.gz", archive.getvalue())


def multirecord_payloads(data: bytes, max_payload_mb: int) -> Iterator[bytes]:
    """``SplitType=Line`` with ``BatchStrategy=MultiRecord``: records end at ``\\n`` (and only there),
    and each request holds as many whole records as fit in ``max_payload_mb``."""
    limit = max_payload_mb * 1024 * 1024
    records = data.split(b"\n")
    if records[-1] == b"":
        records.pop()
    payload = b""
    for record in records:
        if payload and len(payload) + len(record) + 1 > limit:
            yield payload
            payload = b""
        payload += record + b"\n"
    if payload:
        yield payload


@dataclass
class RequestProcessor:
    headers: dict[str, str]

    def get_request_properties(self) -> dict[str, str]:
        return self.headers


@dataclass
class ModelServerContext:
    """The model server's per-request context as the Transformer uses it (``mms.context.Context``)."""

    model_dir: str
    headers: dict[str, str]
    status: int = 200
    phrase: str = ""
    content_types: dict[int, str] = field(default_factory=dict)

    @property
    def system_properties(self) -> dict[str, str]:
        return {"model_dir": self.model_dir}

    @property
    def request_processor(self) -> list[RequestProcessor]:
        return [RequestProcessor(self.headers)]

    def set_response_content_type(self, index: int, content_type: str) -> None:
        self.content_types[index] = content_type

    def set_response_status(self, code: int, phrase: str) -> None:
        self.status, self.phrase = code, phrase


class ServingContainer:
    """One model, served through the inference toolkit's ``Transformer`` with the archive's own
    ``code/inference.py`` (the serving container puts ``code/`` on the path and names the program)."""

    def __init__(self, model_dir: Path) -> None:
        from sagemaker_inference.transformer import Transformer

        self.model_dir = str(model_dir)
        code = str(model_dir / "code")
        assert (model_dir / "code" / "inference.py").is_file()
        sys.path.insert(0, code)
        os.environ["SAGEMAKER_PROGRAM"] = "inference.py"
        sys.modules.pop("inference", None)
        importlib.invalidate_caches()
        self.transformer = Transformer()

    def invoke(self, body: bytes, content_type: str, accept: str = "application/json") -> tuple[int, bytes | str, str]:
        """(status, body, content type) of one request."""
        context = ModelServerContext(self.model_dir, {"Content-Type": content_type, "Accept": accept})
        (answer,) = self.transformer.transform([{"body": body}], context)
        return context.status, answer, context.content_types.get(0, "")


def transform_container(request: dict[str, Any]) -> None:
    """CreateTransformJob: the model archive into the container, each input object cut into the job's
    payloads, each through the Transformer, the answers joined by lines (``AssembleWith=Line``)."""
    import boto3

    sm = boto3.client("sagemaker", region_name=REGION)
    container = sm.describe_model(ModelName=request["ModelName"])["PrimaryContainer"]
    assert container["Environment"]["SAGEMAKER_PROGRAM"] == "inference.py"
    assert request["BatchStrategy"] == "MultiRecord" and request["TransformInput"]["SplitType"] == "Line"
    with tempfile.TemporaryDirectory() as tmp:
        (archive,) = s3_objects(container["ModelDataUrl"]).values()
        serving = ServingContainer(extract(archive, Path(tmp)))
        source = request["TransformInput"]
        for key, data in s3_objects(source["DataSource"]["S3DataSource"]["S3Uri"]).items():
            answers = []
            for payload in multirecord_payloads(data, request["MaxPayloadInMB"]):
                status, answer, _ = serving.invoke(payload, source["ContentType"], request["TransformOutput"]["Accept"])
                assert status == 200, answer
                answers.append((answer if isinstance(answer, str) else answer.decode()) + "\n")
            put_s3(f"{request['TransformOutput']['S3OutputPath'].rstrip('/')}/{key.rpartition('/')[2]}.out",
                   "".join(answers).encode())


CONTAINERS = {"CreateTrainingJob": training_container, "CreateTransformJob": transform_container}
