"""Estimated hourly cost of SageMaker instances, to show what a running resource is billing.

An estimate, not a quote: SageMaker on-demand list prices in us-east-1 (USD per instance-hour,
real-time hosting; training and batch transform are priced the same or within a few percent),
as published in 2024-2025. Other regions cost more, savings plans less. Types not in the table
show as unknown rather than as a guess. A serverless endpoint bills no hours at all: only the
seconds of compute its requests take, by memory size, so it costs nothing while idle.
"""

from __future__ import annotations

HOURLY_USD: dict[str, float] = {
    "ml.t2.medium": 0.056,
    "ml.t3.medium": 0.05,
    "ml.m4.xlarge": 0.24,
    "ml.m5.large": 0.115,
    "ml.m5.xlarge": 0.23,
    "ml.m5.2xlarge": 0.461,
    "ml.m5.4xlarge": 0.922,
    "ml.c5.large": 0.102,
    "ml.c5.xlarge": 0.204,
    "ml.c5.2xlarge": 0.408,
    "ml.p2.xlarge": 1.125,
    "ml.p3.2xlarge": 3.825,
    "ml.g4dn.xlarge": 0.736,
    "ml.g5.xlarge": 1.408,
}

# Serverless Inference (x86): USD per second of compute per GB of the endpoint's memory.
SERVERLESS_USD_PER_GB_SECOND = 0.00002


def hourly_cost(instance_type: str | None, count: int = 1) -> float | None:
    """Estimated USD per hour for ``count`` instances; None when the type is unknown."""
    price = HOURLY_USD.get(instance_type or "")
    return None if price is None else round(price * count, 4)


def instance_cost(instance_type: str | None, count: int, seconds: float) -> float | None:
    """Estimated USD for ``count`` instances over ``seconds``; None when the type is unknown."""
    hourly = hourly_cost(instance_type, count)
    return None if hourly is None else hourly * seconds / 3600


def format_cost(cost: float | None) -> str:
    return "unknown" if cost is None else f"${cost:.3f}/h"


def serverless_cost_per_second(memory_mb: int) -> float:
    """Estimated USD per second of compute while a serverless endpoint of ``memory_mb`` serves."""
    return round(SERVERLESS_USD_PER_GB_SECOND * memory_mb / 1024, 8)


def format_serverless_cost(memory_mb: int) -> str:
    return f"$0/h while idle, ${serverless_cost_per_second(memory_mb):.5f}/s of compute while serving"
