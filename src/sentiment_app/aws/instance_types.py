"""The instance types SageMaker accepts for each use, read from botocore's own service model.

The service keeps separate lists: many real-time hosting types (``ml.c5.large``, ``ml.t2.medium``)
are refused for batch transform, and training has its own list. Checking against the model that
boto3 sends requests with means a type the service would refuse is caught before anything is
created.
"""

from __future__ import annotations

import functools

import botocore.session

REALTIME = "ProductionVariantInstanceType"
TRANSFORM = "TransformInstanceType"
TRAINING = "TrainingInstanceType"


@functools.cache
def supported(shape: str) -> frozenset[str]:
    """Every instance type the SageMaker API takes where it expects ``shape`` (an enum shape)."""
    model = botocore.session.get_session().get_service_model("sagemaker")
    return frozenset(model.shape_for(shape).enum)
