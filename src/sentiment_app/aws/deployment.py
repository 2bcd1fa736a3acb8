"""What ``aws deploy`` creates, checked whole before anything is: the production variants (each a
model and a traffic weight), a shadow variant, Data Capture, and serverless or instance capacity
with optional autoscaling; then the models behind them.

The checks are SageMaker's own rules, so a bad combination fails here with a clear message instead
of half-way through, with models already created: at most 10 production variants; a shadow variant
only beside exactly one production variant, on instances; a serverless endpoint has one variant,
no Data Capture and no autoscaling (Serverless Inference supports neither and scales itself).
"""

from __future__ import annotations

from dataclasses import dataclass

from sentiment_app.aws.endpoints import Capacity, Capture, Variant
from sentiment_app.aws.locations import S3Location
from sentiment_app.aws.names import STAMP_LENGTH
from sentiment_app.aws.scaling import Scaling
from sentiment_app.aws.serving_model import ModelSource, create_model, serving_model_data
from sentiment_app.aws.session import Aws
from sentiment_app.errors import SentimentAppError
from sentiment_app.serving.variants import EndpointConfig, VariantSpec

MAX_VARIANTS = 10
SERVERLESS_MEMORY_MB = (1024, 2048, 3072, 4096, 5120, 6144)
MAX_CONCURRENCY = 200
DEFAULT_MEMORY_MB = 2048  # the SageMaker SDK's defaults for a serverless endpoint
DEFAULT_MAX_CONCURRENCY = 5


@dataclass(frozen=True)
class VariantPlan:
    """A variant to deploy: its name, where its model comes from, its traffic weight."""

    name: str
    source: ModelSource
    weight: float = 1.0


@dataclass(frozen=True)
class EndpointPlan:
    """Everything one ``aws deploy`` asks for; constructing it checks SageMaker's rules."""

    variants: tuple[VariantPlan, ...]
    capacity: Capacity
    shadows: tuple[VariantPlan, ...] = ()
    capture: Capture | None = None
    scaling: Scaling | None = None

    def __post_init__(self) -> None:
        # valid and unique names, a weight above 0: the rules local endpoints keep too
        EndpointConfig(tuple(VariantSpec(v.name, weight=v.weight) for v in self.variants),
                       tuple(VariantSpec(v.name) for v in self.shadows))
        if len(self.variants) > MAX_VARIANTS:
            raise SentimentAppError(f"An endpoint has at most {MAX_VARIANTS} production variants, not {len(self.variants)}.")
        if self.shadows and (len(self.shadows) > 1 or len(self.variants) > 1):
            raise SentimentAppError("A shadow variant goes beside exactly one production variant, and only one "
                                    f"(SageMaker's rule); got {len(self.variants)} and {len(self.shadows)}.")
        if self.capture and not (1 <= self.capture.percent <= 100 and self.capture.destination.startswith("s3://")):
            raise SentimentAppError(f"Data Capture needs a percentage from 1 to 100 and an s3:// destination, "
                                    f"got {self.capture.percent} and {self.capture.destination!r}.")
        if self.capacity.serverless:
            self._check_serverless()

    def _check_serverless(self) -> None:
        memory, concurrency = self.capacity.memory_mb, self.capacity.max_concurrency
        if memory not in SERVERLESS_MEMORY_MB:
            raise SentimentAppError(f"Serverless memory must be one of {', '.join(map(str, SERVERLESS_MEMORY_MB))} MB, "
                                    f"not {memory}.")
        if concurrency is None or not 1 <= concurrency <= MAX_CONCURRENCY:
            raise SentimentAppError(f"Serverless max concurrency must be 1 to {MAX_CONCURRENCY}, not {concurrency}.")
        refused = [what for what, used in (("several production variants", len(self.variants) > 1),
                                           ("a shadow variant", bool(self.shadows)), ("Data Capture", bool(self.capture)),
                                           ("autoscaling (it scales itself)", bool(self.scaling))) if used]
        if refused:
            raise SentimentAppError(f"A serverless endpoint cannot have {' or '.join(refused)}; "
                                    "deploy it on instances instead.")

    @property
    def model_count(self) -> int:
        return len(self.variants) + len(self.shadows)

    @property
    def instances(self) -> tuple[int, int, int]:
        """Instances billed now, at the fewest and at the most (autoscaling moves production variants only)."""
        count, shadows = self.capacity.instance_count, len(self.shadows) * self.capacity.instance_count
        low, high = (self.scaling.min_instances, self.scaling.max_instances) if self.scaling else (count, count)
        return (count * len(self.variants) + shadows, low * len(self.variants) + shadows,
                high * len(self.variants) + shadows)


def name_room(model_count: int) -> int:
    """Characters the endpoint name leaves for ``-<stamp>`` and, with several models, ``-<n>``."""
    return STAMP_LENGTH + 1 + (len(f"-{model_count}") if model_count > 1 else 0)


def model_names(base: str, model_count: int) -> list[str]:
    """One model: ``base`` (also the config's name); several: ``base-1``, ``base-2``, ..."""
    return [base] if model_count == 1 else [f"{base}-{n}" for n in range(1, model_count + 1)]


def create_models(aws: Aws, location: S3Location, plan: EndpointPlan, base: str, image: str,
                  role: str) -> tuple[list[Variant], list[Variant], dict[str, str]]:
    """Every archive uploaded or checked first, then one CreateModel per variant; returns the
    production and shadow variants of the config and each model's ``model.tar.gz``."""
    planned = [*plan.variants, *plan.shadows]
    names = model_names(base, len(planned))
    archives = {name: serving_model_data(aws, location, v.source, name) for name, v in zip(names, planned)}
    for name, model_data in archives.items():
        create_model(aws, name, image, model_data, role)
    variants = [Variant(v.name, name, v.weight) for v, name in zip(plan.variants, names)]
    production_weight = variants[0].weight  # a shadow with the production variant's weight gets a copy of every request
    shadows = [Variant(v.name, name, production_weight) for v, name in zip(plan.shadows, names[len(variants):])]
    return variants, shadows, archives


def weight_share(weight: float, total: float) -> str:
    return f"weight {weight:g} ({weight / total:.0%} of requests)"


def describe_plan(variants: list[Variant], shadows: list[Variant], archives: dict[str, str]) -> list[str]:
    """One line per variant: its model, archive and share of the requests."""
    total = sum(v.weight for v in variants)
    lines = [f"variant {v.name}: model {v.model} ({archives[v.model]}), {weight_share(v.weight, total)}"
             for v in variants]
    return lines + [f"shadow variant {v.name}: model {v.model} ({archives[v.model]}), a copy of every request "
                    "(its answers never reach the caller)" for v in shadows]

