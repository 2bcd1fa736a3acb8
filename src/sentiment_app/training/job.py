"""A local SageMaker training job: the entry point run as a subprocess in an ``/opt/ml``-like folder.

``<home>/jobs/<job-name>/`` gets ``input/config/*.json``, ``input/data/<channel>/``, ``model/``,
``output/`` and ``checkpoints/``; the script sees the same ``SM_*`` variables as in the AWS
container. A job name is derived from the data and hyperparameters, so running the same job again
finds it finished (skipped) or interrupted (resumed from its last checkpoint).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sentiment_app.artifacts.model_dir import pack_model_archive
from sentiment_app.errors import SentimentAppError
from sentiment_app.features.prepare import PreparedData
from sentiment_app.fileio import atomic_write_bytes
from sentiment_app.artifacts.locate import models_root
from sentiment_app.settings import Settings
from sentiment_app.store import ArtifactStore

HOST = "algo-1"


@dataclass(frozen=True)
class TrainingJob:
    name: str
    job_dir: Path
    model_dir: Path
    archive_uri: str

    @property
    def log(self) -> Path:
        return self.job_dir / "output" / "train.log"


Channels = dict[str, dict[str, str]]  # channel → file name → store key


def job_name(prepared: PreparedData, hyperparameters: dict[str, Any], inputs: Channels | None = None) -> str:
    """From the data, the hyperparameters and any extra input channels (their keys are content-addressed)."""
    key = json.dumps({"data": prepared.fingerprint, "hp": hyperparameters, **({"inputs": inputs} if inputs else {})},
                     sort_keys=True)
    return f"sentiment-{hyperparameters['family']}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"


def script_args(hyperparameters: dict[str, Any]) -> list[str]:
    """Hyperparameters as SageMaker's training toolkit passes them: sorted by key, ``--key value``,
    and ``-k value`` for a one-letter key."""
    return [part for key in sorted(hyperparameters)
            for part in (f"-{key}" if len(key) == 1 else f"--{key}", str(hyperparameters[key]))]


def _write_json(path: Path, value: Any) -> None:
    atomic_write_bytes(path, json.dumps(value, indent=2, sort_keys=True).encode())


def _environment(job_dir: Path, name: str, hyperparameters: dict[str, Any], channels: list[str]) -> dict[str, str]:
    env = {
        "SAGEMAKER_BASE_DIR": str(job_dir),
        "TRAINING_JOB_NAME": name,
        "SM_MODEL_DIR": str(job_dir / "model"),
        "SM_OUTPUT_DIR": str(job_dir / "output"),
        "SM_OUTPUT_DATA_DIR": str(job_dir / "output" / "data"),
        "SM_INPUT_DIR": str(job_dir / "input"),
        "SM_INPUT_CONFIG_DIR": str(job_dir / "input" / "config"),
        "SM_CHANNELS": json.dumps(sorted(channels)),
        "SM_HPS": json.dumps(hyperparameters, sort_keys=True),
        "SM_USER_ARGS": json.dumps(script_args(hyperparameters)),
        "SM_HOSTS": json.dumps([HOST]),
        "SM_CURRENT_HOST": HOST,
        "SM_CURRENT_INSTANCE_TYPE": "local",
        "SM_NUM_GPUS": "0",
        "SM_NUM_CPUS": str(os.cpu_count() or 1),
    }
    env.update({f"SM_CHANNEL_{c.upper()}": str(job_dir / "input" / "data" / c) for c in channels})
    return env


def _lay_out(job_dir: Path, store: ArtifactStore, channels: Channels, hyperparameters: dict[str, Any]) -> list[str]:
    """Create the ``/opt/ml`` tree and copy the channels in from the store; return channel names."""
    for channel, files in channels.items():
        for filename, key in files.items():
            target = job_dir / "input" / "data" / channel / filename
            if not target.exists():
                store.get_file(key, target)
    for sub in ("model", "output/data", "checkpoints"):
        (job_dir / sub).mkdir(parents=True, exist_ok=True)
    config = job_dir / "input" / "config"
    _write_json(config / "hyperparameters.json", {k: json.dumps(v) for k, v in hyperparameters.items()})
    _write_json(config / "inputdataconfig.json", {c: {"TrainingInputMode": "File"} for c in channels})
    _write_json(config / "resourceconfig.json", {"current_host": HOST, "hosts": [HOST]})
    return list(channels)


def entry_command(hyperparameters: dict[str, Any], nproc_per_node: int = 1) -> list[str]:
    """The entry point's command line; with several processes under ``torchrun --standalone``
    (one host, rendezvous on a free port), as SageMaker's ``torch_distributed`` option runs it."""
    launcher = ["-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc_per_node}"]
    return [sys.executable, *(launcher if nproc_per_node > 1 else []), "-m", "sentiment_app.training.train",
            *script_args(hyperparameters)]


def _run(job_dir: Path, name: str, hyperparameters: dict[str, Any], channels: list[str], nproc_per_node: int) -> None:
    """Run the entry point, streaming its stdout to the console and ``output/train.log``."""
    env = {**os.environ, **_environment(job_dir, name, hyperparameters, channels)}
    command = entry_command(hyperparameters, nproc_per_node)
    tail: deque[str] = deque(maxlen=20)
    with open(job_dir / "output" / "train.log", "a", encoding="utf-8") as log:
        process = subprocess.Popen(command, env=env, cwd=job_dir, stdout=subprocess.PIPE, text=True)
        assert process.stdout is not None
        for line in process.stdout:
            log.write(line)
            log.flush()
            tail.append(line)
            print(line, end="", flush=True)
        code = process.wait()
    if code != 0:
        reason = "".join(tail)[-1024:]
        atomic_write_bytes(job_dir / "output" / "failure", reason.encode())
        raise SentimentAppError(f"Training job {name} failed (exit {code}); see {job_dir / 'output' / 'train.log'}")


def run_training_job(
    settings: Settings, store: ArtifactStore, prepared: PreparedData, hyperparameters: dict[str, Any],
    nproc_per_node: int = 1, inputs: Channels | None = None,
) -> TrainingJob:
    """Run (or resume, or find finished) the training job for this data and these hyperparameters.

    ``nproc_per_node`` > 1 trains with that many processes (``training.distributed``). It is not a
    hyperparameter: ``--batch-size`` stays the global batch, so the recipe, the job name (its cache
    key) and its checkpoints are the same for any process count, and an interrupted job may resume
    with another. ``inputs``: the family's optional channels (``teacher``, ``encoder``)."""
    name = job_name(prepared, hyperparameters, inputs)
    job_dir = settings.jobs / name
    archive_key = f"jobs/{name}/output/model.tar.gz"
    job = TrainingJob(name, job_dir, models_root(settings) / name, store.url(archive_key))
    if (job_dir / "output" / "success").exists() and (job.model_dir / "manifest.json").exists():
        if not store.exists(archive_key):  # finished while another store was selected
            store.put_file(archive_key, job_dir / "output" / "model.tar.gz")
        return job
    channels = _lay_out(job_dir, store, {**prepared.channels, **(inputs or {})}, hyperparameters)
    (job_dir / "output" / "failure").unlink(missing_ok=True)
    _run(job_dir, name, hyperparameters, channels, nproc_per_node)
    archive = pack_model_archive(job_dir / "model", job_dir / "output" / "model.tar.gz")
    store.put_file(archive_key, archive)
    staging = job.model_dir.with_name(f".{name}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(job_dir / "model", staging)
    shutil.rmtree(job.model_dir, ignore_errors=True)
    staging.rename(job.model_dir)
    (job_dir / "output" / "success").touch()
    return job
