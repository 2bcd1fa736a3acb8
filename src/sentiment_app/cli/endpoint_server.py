"""``python -m sentiment_app.cli.endpoint_server``: the model container's process, as SageMaker starts one.

This is the edge where SageMaker's ``SAGEMAKER_*`` variables are read (as option defaults); the
server below it only gets plain arguments. The command line is stable: ``sentiment-app serve`` and
``sentiment-app endpoint create`` start this module as a subprocess.
"""

from __future__ import annotations

from pathlib import Path

import click

from sentiment_app.cli.options import capture_percent_option
from sentiment_app.errors import SentimentAppError
from sentiment_app.serving.capture import CaptureSettings
from sentiment_app.serving.options import DEFAULTS, ServerOptions
from sentiment_app.serving.server import run_server
from sentiment_app.serving.variants import EndpointConfig
from sentiment_app.settings import load_settings


def endpoint_config(model_dir: Path | None, variants: tuple[str, ...], shadows: tuple[str, ...]) -> EndpointConfig:
    """The variants from the options, each model a folder that exists (the caller resolved any other source)."""
    try:
        config = EndpointConfig.parse(variants, shadows, None if model_dir is None else str(model_dir))
    except SentimentAppError as exc:
        raise click.BadParameter(str(exc), param_hint="--variant") from None
    for variant in (*config.production, *config.shadows):
        if variant.model is None or not Path(variant.model).is_dir():
            raise click.BadParameter(f"variant {variant.name}: {variant.model or 'no model'} is not a model directory",
                                     param_hint="--model/--variant")
    return config


@click.command(context_settings={"show_default": True})
@click.option("--model", "model_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Model directory (the contents of model.tar.gz): the one variant, AllTraffic.")
@click.option("--variant", "variants", multiple=True, metavar="NAME=DIR:WEIGHT",
              help="A production variant instead of --model (repeatable): its model directory and relative weight.")
@click.option("--shadow-variant", "shadows", multiple=True, metavar="NAME=DIR",
              help="A shadow variant (repeatable): scores a copy of every request; its answers are compared, never sent.")
@click.option("--weights-file", type=click.Path(dir_okay=False, path_type=Path),
              help="A JSON file of variant weights, re-read whenever it changes (endpoint update-weights writes it).")
@capture_percent_option()
@click.option("--store", "store_uri", metavar="URI",
              help="Where Data Capture writes: a folder or s3://bucket/prefix [SENTIMENT_APP_STORE; default: <home>/store].")
@click.option("--host", default=DEFAULTS.host, help="Interface to bind; 0.0.0.0 exposes the endpoint to the network.")
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULTS.port, envvar="SAGEMAKER_BIND_TO_PORT", show_envvar=True)
@click.option("--name", default=DEFAULTS.name, help="Endpoint name InvokeEndpoint answers to [default: any name].")
@click.option("--workers", type=click.IntRange(min=1), default=DEFAULTS.workers, envvar="SAGEMAKER_MODEL_SERVER_WORKERS",
              show_envvar=True, help="Worker processes, each with its own copy of the model.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0, min_open=True), default=DEFAULTS.timeout_s,
              envvar="SAGEMAKER_MODEL_SERVER_TIMEOUT", show_envvar=True,
              help="Seconds one invocation may take before it is answered 504.")
@click.option("--max-payload-mb", type=click.FloatRange(min=0, min_open=True), default=DEFAULTS.max_payload_bytes / 2**20,
              envvar="SAGEMAKER_MAX_PAYLOAD_IN_MB", show_envvar=True, help="Largest /invocations body.")
@click.option("--idle-timeout", "idle_timeout_s", type=click.FloatRange(min=0, min_open=True), default=DEFAULTS.idle_timeout_s,
              help="Shut down after this many seconds without an invocation [default: never].")
@click.option("--max-batch-size", type=click.IntRange(min=1), default=DEFAULTS.max_batch_size,
              envvar="SENTIMENT_APP_MAX_BATCH_SIZE", show_envvar=True,
              help="Most reviews scored in one model call (concurrent requests are batched).")
@click.option("--max-batch-wait-ms", type=click.FloatRange(min=0), default=DEFAULTS.max_batch_wait_ms,
              envvar="SENTIMENT_APP_MAX_BATCH_WAIT_MS", show_envvar=True,
              help="How long a request may wait for others to fill its batch; 0 takes only those already waiting.")
@click.option("--torch-threads", type=click.IntRange(min=1), default=DEFAULTS.torch_threads, envvar="SENTIMENT_APP_TORCH_THREADS",
              show_envvar=True, help="Intra-op threads of the model's worker thread, per worker process.")
@click.option("--access-log/--no-access-log", default=DEFAULTS.access_log, envvar="SENTIMENT_APP_ACCESS_LOG", show_envvar=True,
              help="Log every request (costs latency on the hot path).")
def main(
    model_dir: Path | None, variants: tuple[str, ...], shadows: tuple[str, ...], weights_file: Path | None,
    capture_percent: float, store_uri: str | None, host: str, port: int, name: str | None, workers: int,
    timeout_s: float, max_payload_mb: float, idle_timeout_s: float | None, max_batch_size: int,
    max_batch_wait_ms: float, torch_threads: int, access_log: bool,
) -> None:
    """Serve a model (or several variants) the way a SageMaker inference container does."""
    if workers > 1 and port == 0:
        raise click.BadParameter("0 (any free port) needs one worker: each worker would get a port of its own",
                                 param_hint="--port")
    if model_dir is None and not variants:
        raise click.UsageError("Give --model DIR or at least one --variant NAME=DIR:WEIGHT.")
    if capture_percent and name is None:
        raise click.BadParameter("Data Capture keeps its files by endpoint name: give --name too",
                                 param_hint="--capture-percent")
    config = endpoint_config(model_dir, variants, shadows)
    capture = CaptureSettings(capture_percent, load_settings(store=store_uri).store) if capture_percent else None
    options = ServerOptions(host, port, name, workers, timeout_s, int(max_payload_mb * 2**20), idle_timeout_s,
                            max_batch_size, max_batch_wait_ms, torch_threads, access_log)
    run_server(config, options, weights_file, capture)


if __name__ == "__main__":
    main()
