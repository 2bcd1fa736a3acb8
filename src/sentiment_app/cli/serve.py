"""``sentiment-app serve``: the whole web app on one machine, wired as it would be on AWS.

browser -> local API Gateway + web page (uvicorn, foreground) -> Lambda handler (``--concurrency``
execution environments, child processes) -> SageMaker Runtime wire format -> endpoint server
(``python -m sentiment_app.serving.server``, a child).
"""

from __future__ import annotations

import logging
import re
import signal
from types import FrameType

import click
import uvicorn

from sentiment_app.cli.options import capture_percent_option, with_settings, with_variants
from sentiment_app.errors import SentimentAppError
from sentiment_app.gateway.keys.access import AccessControl
from sentiment_app.gateway.keys.apikeys import ApiKeyStore
from sentiment_app.gateway.api.local_api import INTEGRATION_TIMEOUT_S, MAX_REQUEST_BYTES, create_app
from sentiment_app.gateway.runtime.pool import DEFAULT_CONCURRENCY
from sentiment_app.gateway.api.local_stack import (
    ENDPOINT_NAME, check_port_free, feedback_location, local_url, set_lambda_environment, start_endpoint, stop_process,
    wait_until_ready,
)
from sentiment_app.serving.lifecycle import capture_options, resolve_config
from sentiment_app.serving.options import ServerOptions
from sentiment_app.serving.variants import EndpointConfig
from sentiment_app.http_common.observability import log_requests_as_json_lines
from sentiment_app.settings import Settings
from sentiment_app.web import DEFAULT_API_URL


ORIGIN = re.compile(r"https?://[^/\s,]+")


def _check_origins(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    """An origin is scheme://host[:port] exactly as browsers send it (no path, no trailing slash)."""
    for value in values:
        if value != "*" and not ORIGIN.fullmatch(value):
            raise click.BadParameter(f"{value!r} is not an origin like https://example.com or http://127.0.0.1:8000.")
    return values


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """uvicorn re-raises SIGTERM after its graceful shutdown; exiting via SystemExit runs ``finally``."""
    raise SystemExit(0)


@click.command(context_settings={"show_default": True})
@with_variants
@capture_percent_option(100.0)
@click.option("--port", type=click.IntRange(1, 65535), default=3000, help="Port of the web page and API.")
@click.option("--endpoint-port", type=click.IntRange(1, 65535), default=8080, help="Port of the endpoint server.")
@click.option("--host", default="127.0.0.1", help="Interface to bind; 0.0.0.0 exposes the app to the network.")
@click.option("--endpoint-name", default=ENDPOINT_NAME, help="Name the Lambda function invokes.")
@click.option("--api-url", default=DEFAULT_API_URL,
              help="Where the page sends reviews, e.g. an API Gateway Invoke URL.")
@click.option("--require-api-key", is_flag=True,
              help="Demand a valid x-api-key on the API (see `sentiment-app apikey`); the page asks for one.")
@click.option("--cors-origin", "cors_origins", multiple=True, callback=_check_origins,
              help="An origin allowed to call the API from a browser (repeatable) [default: $CORS_ALLOW_ORIGIN, else *].")
@click.option("--max-request-mb", type=click.FloatRange(0, 10, min_open=True), default=MAX_REQUEST_BYTES / 2**20,
              help="Larger request bodies get 413 (API Gateway's limit is 10 MB).")
@click.option("--timeout", "timeout_s", type=click.FloatRange(0.05, 300), default=INTEGRATION_TIMEOUT_S,
              help="Seconds the gateway waits for the function before answering 504.")
@click.option("--concurrency", type=click.IntRange(min=1), default=DEFAULT_CONCURRENCY,
              help="Execution environments of the Lambda function (worker processes, one event at a time each); "
                   "beyond them and a short queue, callers get 429.")
@with_settings
def serve(settings: Settings, config: EndpointConfig, capture_percent: float, port: int, endpoint_port: int, host: str,
          endpoint_name: str, api_url: str, require_api_key: bool, cors_origins: tuple[str, ...],
          max_request_mb: float, timeout_s: float, concurrency: int) -> None:
    """Run the web app: page and API on --port, the model endpoint behind it; Ctrl-C stops both."""
    if port == endpoint_port:
        raise SentimentAppError("--port and --endpoint-port must differ.")
    check_port_free(host, port, "--port")
    check_port_free(host, endpoint_port, "--endpoint-port")
    config = resolve_config(settings, config)
    access = AccessControl(ApiKeyStore(settings.apikeys)) if require_api_key else None
    if access is not None and not access.active_keys():
        click.secho("No API keys yet: every API request gets 403 until you run `sentiment-app apikey create NAME`.",
                    fg="yellow", err=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    endpoint_url = local_url(host, endpoint_port)
    click.echo(f"Starting endpoint {endpoint_name!r} with {config.summary()} on {endpoint_url}")
    endpoint = start_endpoint(config, ServerOptions(host=host, port=endpoint_port, name=endpoint_name),
                              capture_options(capture_percent, settings.store))
    try:
        wait_until_ready(f"{endpoint_url}/ping", endpoint)
        set_lambda_environment(endpoint_name, endpoint_url, cors_origins,
                               feedback=feedback_location(settings.store, endpoint_name))
        app = create_app(api_url, access, max_request_bytes=int(max_request_mb * 2**20), timeout_s=timeout_s,
                         concurrency=concurrency)
        log_requests_as_json_lines()  # instead of uvicorn's access log
        server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="info", access_log=False))
        click.echo(f"Open {local_url(host, port)}")
        server.run()
        if not server.started:
            raise SentimentAppError(f"The web app could not start on {host}:{port}; see the log above.")
    except KeyboardInterrupt:
        pass  # Ctrl-C is the normal way to stop
    finally:
        stop_process(endpoint)
        if access is not None:
            access.flush()  # the last usage counts
