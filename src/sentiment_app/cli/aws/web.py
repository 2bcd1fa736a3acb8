"""``aws lambda-package`` and ``aws web-site``: the API's Lambda function and its static page, built
for upload."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import click

from sentiment_app.gateway.function.package import DEFAULT_ZIP, LAMBDA_FILES, build_lambda_zip, build_static_site


@click.command("lambda-package")
@click.option("--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), default=DEFAULT_ZIP,
              show_default=True, help="Zip file to write; infra/template.yaml expects build/lambda.zip.")
def lambda_package(output: Path) -> None:
    """Build the Lambda deployment zip from the same handler the local gateway runs."""
    build_lambda_zip(output)
    click.echo(f"{output} ({output.stat().st_size} bytes): {', '.join(LAMBDA_FILES)}; "
               f"handler lambda_function.lambda_handler")


def _check_api_url(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """An absolute http(s) URL (API Gateway's Invoke URL) or a path on the page's own host."""
    parts = urlsplit(value)
    if value.startswith("/") and not value.startswith("//") and not parts.scheme:
        return value
    if parts.scheme in ("http", "https") and parts.netloc:
        return value
    raise click.BadParameter(f"{value!r} is neither an http(s) URL nor a path starting with '/'.")


@click.command("web-site")
@click.option("--api-url", required=True, callback=_check_api_url,
              help="The API the page posts to: the stack's ApiUrl output.")
@click.option("--output", type=click.Path(file_okay=False, writable=True, path_type=Path), default=Path("build/site"),
              show_default=True, help="Folder to write the page into.")
def web_site(api_url: str, output: Path) -> None:
    """Write the web page as static files (for S3 or any web host) with config.js set to --api-url."""
    written = build_static_site(output, api_url)
    click.echo(f"{len(written)} files in {output}: {', '.join(path.name for path in written)}")
