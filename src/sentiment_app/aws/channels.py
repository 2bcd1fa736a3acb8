"""The processed data in S3 as SageMaker training channels.

Each kind of channel has its own folder under the location: the original recipe's encoded rows in
``data/``, the text families' ``label,text[,movie]`` rows in ``data-text/``. In each, ``training/``
holds ``train.csv`` (and, for the rows, ``word_dict.json``; the entry point reads every CSV of a
channel, so the test rows must not sit beside them), ``validation/`` holds ``test.csv`` (per-epoch
accuracy for monitoring; the text families never read it), and ``meta.json`` describes the data.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sentiment_app.aws.locations import S3Location
from sentiment_app.errors import SentimentAppError
from sentiment_app.features.prepare import ROWS, PreparedData
from sentiment_app.store import ArtifactStore

CHANNELS = ("training", "validation")


def data_prefix(kind: str) -> str:
    """The folder (under the location) of one kind of channel: ``rows`` or ``text``."""
    return "data/" if kind == ROWS else f"data-{kind}/"


def channel_files(prepared: PreparedData) -> dict[str, str]:
    """S3 key under the location → key of the prepared file in its store."""
    prefix = data_prefix(prepared.kind)
    return {f"{prefix}{channel}/{name}": key for channel, files in prepared.channels.items() for name, key in files.items()}


def upload_prepared(source: ArtifactStore, prepared: PreparedData, location: S3Location) -> list[str]:
    """Copy the prepared data into the channels (meta.json last: it marks a complete upload)."""
    uploaded = []
    with tempfile.TemporaryDirectory() as tmp:
        for target, key in channel_files(prepared).items():
            local = source.get_file(key, Path(tmp) / Path(target).name)
            location.store.put_file(target, local)
            uploaded.append(location.uri(target))
    meta = f"{data_prefix(prepared.kind)}meta.json"
    location.store.put_bytes(meta, json.dumps(asdict(prepared), indent=2).encode())
    return [*uploaded, location.uri(meta)]


def input_prefix(job: str, channel: str) -> str:
    """The folder (under the location) of one optional input channel of a job: only its files."""
    return f"jobs/{job}/inputs/{channel}/"


def upload_inputs(source: ArtifactStore, inputs: dict[str, dict[str, str]], location: S3Location,
                  job: str) -> dict[str, str]:
    """Copy a family's optional channels (``teacher``, ``encoder``: file name → key in ``source``) to
    the job's own folders; channel → the ``s3://`` folder the job reads it from."""
    with tempfile.TemporaryDirectory() as tmp:
        for channel, files in inputs.items():
            for name, key in files.items():
                location.store.put_file(f"{input_prefix(job, channel)}{name}", source.get_file(key, Path(tmp) / name))
    return {channel: location.uri(input_prefix(job, channel)) for channel in inputs}


def read_meta(location: S3Location, kind: str) -> dict[str, Any]:
    """The uploaded data's description; a clear error when nothing of this kind was uploaded there."""
    meta = f"{data_prefix(kind)}meta.json"
    if not location.store.exists(meta):
        flag = "" if kind == ROWS else " --family <a text family>"
        raise SentimentAppError(f"No processed {kind} data at {location.uri(data_prefix(kind))}; "
                                f"run `sentiment-app aws upload{flag}` first.")
    return json.loads(location.store.read_bytes(meta))
