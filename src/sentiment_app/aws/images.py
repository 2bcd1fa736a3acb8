"""Image URIs of the AWS PyTorch Deep Learning Containers, as the SageMaker SDK builds them.

``<account>.dkr.ecr.<region>.<domain>/pytorch-<training|inference>:<version>-<cpu|gpu>-<py>``;
the account is 763104351884 in most commercial regions, with the exceptions the DLC list names.
"""

from __future__ import annotations

from sentiment_app.errors import SentimentAppError

DEFAULT_ACCOUNT = "763104351884"
ACCOUNTS = {
    "af-south-1": "626614931356",
    "ap-east-1": "871362719292",
    "ap-northeast-3": "364406365360",
    "ap-southeast-3": "907027046896",
    "eu-south-1": "692866216735",
    "me-south-1": "217643126080",
    "me-central-1": "914824155844",
    "cn-north-1": "727897471807",
    "cn-northwest-1": "727897471807",
}
# The newest versions in the SDK's image config (v2.257.6), both for Python 3.12.
VERSIONS = {"training": "2.8.0", "inference": "2.6.0"}
PY_VERSION = "py312"
GPU_FAMILIES = ("ml.g", "ml.p")
ACCELERATOR_FAMILIES = ("ml.inf", "ml.trn")


def processor(instance_type: str | None) -> str:
    """``gpu`` for the ``ml.g*``/``ml.p*`` families, ``cpu`` for the rest (as the SDK decides) and for
    serverless endpoints (no instance type: Serverless Inference runs on CPUs)."""
    if instance_type is None:
        return "cpu"
    if instance_type.startswith(ACCELERATOR_FAMILIES):
        raise SentimentAppError(f"{instance_type} needs a Neuron image; pass --image explicitly.")
    return "gpu" if instance_type.startswith(GPU_FAMILIES) else "cpu"


def image_uri(region: str, scope: str, instance_type: str | None, version: str | None = None) -> str:
    """The PyTorch DLC for ``scope`` (``training`` or ``inference``) on ``instance_type``."""
    account = ACCOUNTS.get(region, DEFAULT_ACCOUNT)
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    tag = f"{version or VERSIONS[scope]}-{processor(instance_type)}-{PY_VERSION}"
    return f"{account}.dkr.ecr.{region}.{domain}/pytorch-{scope}:{tag}"
