"""Polling a SageMaker resource until it settles, with a live status line.

The boto3 waiters poll silently (30-120 s apart); this loop shows the status, the secondary
status of training jobs and the elapsed time while it waits, and its delay is a parameter so
tests need not sleep.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tqdm import tqdm

from sentiment_app.errors import SentimentAppError


@dataclass(frozen=True)
class Target:
    """How to describe one kind of resource and read its state."""

    kind: str
    describe: str
    name_param: str
    status_field: str
    success: frozenset[str]
    failure: frozenset[str]
    secondary_field: str | None = None


ENDPOINT = Target("endpoint", "describe_endpoint", "EndpointName", "EndpointStatus",
                  frozenset({"InService"}), frozenset({"Failed", "OutOfService", "UpdateRollbackFailed"}))
TRAINING_JOB = Target("training job", "describe_training_job", "TrainingJobName", "TrainingJobStatus",
                      frozenset({"Completed"}), frozenset({"Failed", "Stopped"}), "SecondaryStatus")
TRANSFORM_JOB = Target("transform job", "describe_transform_job", "TransformJobName", "TransformJobStatus",
                       frozenset({"Completed"}), frozenset({"Failed", "Stopped"}))


def wait_for(sm: Any, target: Target, name: str, delay: float = 15.0, timeout: float = 6 * 3600,
             clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """Describe ``name`` every ``delay`` seconds until it succeeds; raise with the reason on failure."""
    started = clock()
    with tqdm(total=None, bar_format="{desc} [{elapsed}]", desc=f"{target.kind} {name}", file=sys.stderr) as bar:
        while True:
            description = getattr(sm, target.describe)(**{target.name_param: name})
            status = description[target.status_field]
            secondary = description.get(target.secondary_field) if target.secondary_field else None
            bar.set_description_str(f"{target.kind} {name}: {status}" + (f" / {secondary}" if secondary else ""))
            if status in target.success:
                return description
            if status in target.failure:
                reason = description.get("FailureReason") or "no reason given"
                raise SentimentAppError(f"{target.kind} {name} is {status}: {reason}")
            if clock() - started > timeout:
                raise SentimentAppError(f"{target.kind} {name} still {status} after {timeout:.0f} s; it keeps running")
            sleep(delay)
