"""Batch transform of the test reviews on SageMaker and the metrics of its output.

The input is one raw review per line, sent as ``text/csv`` with ``SplitType=Line`` (the handler
reads one review per CSV line) and ``MultiRecord`` batching; ``AssembleWith=Line`` ends every
response with a newline. With ``Accept: application/json`` a response is either one
``{"label", "probability"}`` object (one record) or ``{"predictions": [...]}`` (a mini-batch), so
the ``.out`` file is read back as the predictions of all its lines, in input order.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from sentiment_app.aws.inventory import PROJECT_TAGS
from sentiment_app.errors import SentimentAppError

MAX_PAYLOAD_MB = 1
"""Each MultiRecord request's size: a megabyte of reviews stays under the handler's ``MAX_REVIEWS``
while lines average 210 bytes or more (IMDB reviews average about 1,300)."""

DEFAULT_INSTANCE_TYPE = "ml.m5.large"


def transform_request(name: str, model: str, input_uri: str, output_uri: str, instance_type: str,
                      instance_count: int = 1) -> dict[str, Any]:
    """The CreateTransformJob arguments (SageMaker's API, as the Python SDK's Transformer sends them)."""
    return {
        "TransformJobName": name,
        "ModelName": model,
        "BatchStrategy": "MultiRecord",
        "MaxPayloadInMB": MAX_PAYLOAD_MB,
        "MaxConcurrentTransforms": 1,
        "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": input_uri}},
                           "ContentType": "text/csv", "SplitType": "Line", "CompressionType": "None"},
        "TransformOutput": {"S3OutputPath": output_uri, "Accept": "application/json", "AssembleWith": "Line"},
        "TransformResources": {"InstanceType": instance_type, "InstanceCount": instance_count},
        "Tags": PROJECT_TAGS,
    }


def read_probabilities(path: Path) -> np.ndarray:
    """Probabilities of positive from a ``.out`` file, one per input record, in order."""
    probabilities: list[float] = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                answer = json.loads(line)
                records = answer["predictions"] if "predictions" in answer else [answer]
                probabilities.extend(float(record["probability"]) for record in records)
            except (ValueError, KeyError, TypeError) as exc:
                raise SentimentAppError(f"{path}:{number}: not a prediction: {line[:200]!r}") from exc
    return np.array(probabilities, dtype=np.float64)
