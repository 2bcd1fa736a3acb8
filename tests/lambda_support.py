"""Helpers for the Lambda runtime's tests: functions of a test's own, run by real execution
environments (awslambdaric processes) through the gateway's pool."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path
from typing import Any

from sentiment_app.gateway.runtime.environments import FunctionConfig, starter
from sentiment_app.gateway.runtime.pool import EnvironmentPool


def probe_function(folder: Path, source: str, handler: str = "probe.handler") -> FunctionConfig:
    """A function whose module ``probe.py`` (``source``) sits at the root of ``folder``, as in a zip."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{handler.split('.')[0]}.py").write_text(textwrap.dedent(source))
    return FunctionConfig(name="probe", handler=handler, memory_size_mb=128, task_root=folder)


def invoke(function: FunctionConfig, events: list[dict[str, Any]], timeout_s: float = 30.0) -> list[Any]:
    """Each event's answer (``{"result"}``/``{"error"}``, or the exception the pool raised), one at a
    time through one environment, which ends with the call."""

    async def run() -> list[Any]:
        pool = EnvironmentPool(starter(function), concurrency=1)
        answers: list[Any] = []
        try:
            for n, event in enumerate(events):
                try:
                    answers.append(await pool.invoke(event, f"req-{n}", timeout_s))
                except Exception as exc:  # the pool's own outcomes: timeout, death
                    answers.append(exc)
        finally:
            await pool.close()
        return answers

    return asyncio.run(run())
