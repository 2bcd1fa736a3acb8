"""``sentiment-app serve``: the whole web app on one machine, wired as it would be on AWS.

browser -> local API Gateway + web page (uvicorn, foreground) -> Lambda handler (in-process) ->
SageMaker Runtime wire format -> endpoint server (``python -m sentiment_app.serving.server``, a child).
"""

from __future__ import annotations

import logging
import signal
from types import FrameType

import click
import uvicorn

from sentiment_app.cli_options import with_settings
from sentiment_app.errors import SentimentAppError
from sentiment_app.gateway.local_api import create_app
from sentiment_app.gateway.local_stack import (
    check_port_free, local_url, set_lambda_environment, start_endpoint, stop_process, wait_until_ready,
)
from sentiment_app.model_dirs import resolve_model_dir
from sentiment_app.settings import Settings
from sentiment_app.web import DEFAULT_API_URL


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """uvicorn re-raises SIGTERM after its graceful shutdown; exiting via SystemExit runs ``finally``."""
    raise SystemExit(0)


@click.command(context_settings={"show_default": True})
@click.option("--model", type=click.Path(exists=True, file_okay=False),
              help="Model directory [default: newest trained model, else the bundled one].")
@click.option("--port", type=click.IntRange(1, 65535), default=3000, help="Port of the web page and API.")
@click.option("--endpoint-port", type=click.IntRange(1, 65535), default=8080, help="Port of the endpoint server.")
@click.option("--host", default="127.0.0.1", help="Interface to bind; 0.0.0.0 exposes the app to the network.")
@click.option("--endpoint-name", default="local-sentiment", help="Name the Lambda function invokes.")
@click.option("--api-url", default=DEFAULT_API_URL,
              help="Where the page sends reviews, e.g. an API Gateway Invoke URL.")
@with_settings
def serve(settings: Settings, model: str | None, port: int, endpoint_port: int, host: str,
          endpoint_name: str, api_url: str) -> None:
    """Run the web app: page and API on --port, the model endpoint behind it; Ctrl-C stops both."""
    if port == endpoint_port:
        raise SentimentAppError("--port and --endpoint-port must differ.")
    check_port_free(host, port, "--port")
    check_port_free(host, endpoint_port, "--endpoint-port")
    model_dir = resolve_model_dir(settings, model)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    endpoint_url = local_url(host, endpoint_port)
    click.echo(f"Starting endpoint {endpoint_name!r} with model {model_dir} on {endpoint_url}")
    endpoint = start_endpoint(model_dir, host, endpoint_port, endpoint_name)
    try:
        wait_until_ready(f"{endpoint_url}/ping", endpoint)
        set_lambda_environment(endpoint_name, endpoint_url)
        server = uvicorn.Server(uvicorn.Config(create_app(api_url), host=host, port=port, log_level="info"))
        click.echo(f"Open {local_url(host, port)}")
        server.run()
        if not server.started:
            raise SentimentAppError(f"The web app could not start on {host}:{port}; see the log above.")
    except KeyboardInterrupt:
        pass  # Ctrl-C is the normal way to stop
    finally:
        stop_process(endpoint)
