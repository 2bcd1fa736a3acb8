"""The processed data in S3 as SageMaker training channels.

``data/training/`` holds ``train.csv`` and ``word_dict.json`` (the entry point reads every CSV of
a channel, so the test rows must not sit beside them), ``data/validation/`` holds ``test.csv``
(per-epoch accuracy for monitoring), and ``data/meta.json`` describes the data.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sentiment_app.aws.locations import S3Location
from sentiment_app.errors import SentimentAppError
from sentiment_app.features.prepare import PreparedData
from sentiment_app.store import ArtifactStore

TRAINING = "data/training/"
VALIDATION = "data/validation/"
META = "data/meta.json"


def channel_files(prepared: PreparedData) -> dict[str, str]:
    """S3 key under the location → key of the prepared file in its store."""
    return {
        f"{TRAINING}train.csv": prepared.train_key,
        f"{TRAINING}word_dict.json": prepared.vocab_key,
        f"{VALIDATION}test.csv": prepared.test_key,
    }


def upload_prepared(source: ArtifactStore, prepared: PreparedData, location: S3Location) -> list[str]:
    """Copy the prepared data into the channels (meta.json last: it marks a complete upload)."""
    uploaded = []
    with tempfile.TemporaryDirectory() as tmp:
        for target, key in channel_files(prepared).items():
            local = source.get_file(key, Path(tmp) / Path(target).name)
            location.store.put_file(target, local)
            uploaded.append(location.uri(target))
    location.store.put_bytes(META, json.dumps(asdict(prepared), indent=2).encode())
    return [*uploaded, location.uri(META)]


def read_meta(location: S3Location) -> dict[str, Any]:
    """The uploaded data's description; a clear error when nothing was uploaded there."""
    if not location.store.exists(META):
        raise SentimentAppError(f"No processed data at {location.uri('data/')}; run `sentiment-app aws upload` first.")
    return json.loads(location.store.read_bytes(META))
