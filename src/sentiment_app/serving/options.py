"""The endpoint server's settings, declared once: the defaults of its command line, what ``run_server``
takes, what each worker process reads back, and the arguments another process starts it with."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields

from sentiment_app.wire import MAX_BODY_BYTES
from sentiment_app.serving.batching import DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_WAIT_MS


LOCATION = ("host", "port", "name")


@dataclass(frozen=True)
class ServerOptions:
    """``name`` None answers InvokeEndpoint for any endpoint name; ``idle_timeout_s`` None never stops."""

    host: str = "127.0.0.1"
    port: int = 8080  # SageMaker's container port
    name: str | None = None
    workers: int = 1
    timeout_s: float = 60.0  # SageMaker's invocation timeout
    max_payload_bytes: int = MAX_BODY_BYTES
    idle_timeout_s: float | None = None
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE
    max_batch_wait_ms: float = DEFAULT_MAX_WAIT_MS
    torch_threads: int = 1
    access_log: bool = False

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServerOptions:
        return cls(**json.loads(text))

    def arguments(self) -> list[str]:
        """The endpoint server's command line for these settings: where it listens and what it is
        called always, every other setting where it differs from the default, so a setting left at
        its default still follows the container's variable (``SAGEMAKER_MODEL_SERVER_WORKERS``...)
        as in SageMaker."""
        args: list[str] = []
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name not in LOCATION and value == field.default:
                continue
            if field.name == "access_log":
                args.append("--access-log" if value else "--no-access-log")
            elif field.name == "max_payload_bytes":
                args += ["--max-payload-mb", repr(value / 2**20)]
            elif value is not None:
                args += [f"--{field.name.removesuffix('_s').replace('_', '-')}", str(value)]
        return args

DEFAULTS = ServerOptions()
