"""``python -m sentiment_app.cli.endpoint_server``: the model container's process, as SageMaker starts one.

This is the edge where SageMaker's ``SAGEMAKER_*`` variables are read (as option defaults); the
server below it only gets plain arguments. The command line is stable: ``sentiment-app serve`` and
``sentiment-app endpoint create`` start this module as a subprocess.
"""

from __future__ import annotations

from pathlib import Path

import click

from sentiment_app.inference.handler import MAX_INVOKE_BYTES
from sentiment_app.serving.batching import DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_WAIT_MS
from sentiment_app.serving.server import run_server


@click.command(context_settings={"show_default": True})
@click.option("--model", "model_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Model directory (the contents of model.tar.gz).")
@click.option("--host", default="127.0.0.1", help="Interface to bind; 0.0.0.0 exposes the endpoint to the network.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, envvar="SAGEMAKER_BIND_TO_PORT", show_envvar=True)
@click.option("--name", default=None, help="Endpoint name InvokeEndpoint answers to [default: any name].")
@click.option("--workers", type=click.IntRange(min=1), default=1, envvar="SAGEMAKER_MODEL_SERVER_WORKERS",
              show_envvar=True, help="Worker processes, each with its own copy of the model.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0, min_open=True), default=60.0,
              envvar="SAGEMAKER_MODEL_SERVER_TIMEOUT", show_envvar=True,
              help="Seconds one invocation may take before it is answered 504.")
@click.option("--max-payload-mb", type=click.FloatRange(min=0, min_open=True), default=MAX_INVOKE_BYTES / 2**20,
              envvar="SAGEMAKER_MAX_PAYLOAD_IN_MB", show_envvar=True, help="Largest /invocations body.")
@click.option("--idle-timeout", "idle_timeout_s", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Shut down after this many seconds without an invocation [default: never].")
@click.option("--max-batch-size", type=click.IntRange(min=1), default=DEFAULT_MAX_BATCH_SIZE,
              envvar="SENTIMENT_APP_MAX_BATCH_SIZE", show_envvar=True,
              help="Most reviews scored in one model call (concurrent requests are batched).")
@click.option("--max-batch-wait-ms", type=click.FloatRange(min=0), default=DEFAULT_MAX_WAIT_MS,
              envvar="SENTIMENT_APP_MAX_BATCH_WAIT_MS", show_envvar=True,
              help="How long a request may wait for others to fill its batch; 0 takes only those already waiting.")
@click.option("--torch-threads", type=click.IntRange(min=1), default=1, envvar="SENTIMENT_APP_TORCH_THREADS",
              show_envvar=True, help="Intra-op threads of the model's worker thread, per worker process.")
@click.option("--access-log/--no-access-log", default=False, envvar="SENTIMENT_APP_ACCESS_LOG", show_envvar=True,
              help="Log every request (costs latency on the hot path).")
def main(
    model_dir: Path, host: str, port: int, name: str | None, workers: int, timeout_s: float,
    max_payload_mb: float, idle_timeout_s: float | None, max_batch_size: int, max_batch_wait_ms: float,
    torch_threads: int, access_log: bool,
) -> None:
    """Serve a model the way a SageMaker inference container does."""
    if workers > 1 and port == 0:
        raise click.BadParameter("0 (any free port) needs one worker: each worker would get a port of its own",
                                 param_hint="--port")
    run_server(model_dir, host, port, name, workers, timeout_s, int(max_payload_mb * 2**20), idle_timeout_s,
               max_batch_size, max_batch_wait_ms, torch_threads, access_log)


if __name__ == "__main__":
    main()
