"""Deployable artifacts of the API tier: the Lambda zip that ``infra/template.yaml`` deploys, built from
the very ``lambda_function.py`` the local gateway runs, and the web page as static files.

The zip is reproducible (fixed timestamps and modes, sorted entries), so the same source gives the same
bytes and CloudFormation only updates the function when the code really changed.
"""

from __future__ import annotations

import io
import zipfile
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import click

from sentiment_app.errors import SentimentAppError
from sentiment_app.fileio import atomic_write_bytes
from sentiment_app.web import write_static_site

# Lambda's Python runtimes bundle boto3, and the function imports nothing else outside the standard library.
LAMBDA_FILES = ("lambda_function.py",)
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold
DEFAULT_ZIP = Path("build/lambda.zip")  # where infra/template.yaml's Code points, from the repository root


def lambda_zip_bytes() -> bytes:
    """The deployment package: ``LAMBDA_FILES`` at the archive root, the same bytes on every build
    (given the same zlib)."""
    source = resources.files("sentiment_app.gateway")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(LAMBDA_FILES):
            entry = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o100644 << 16  # a regular file, rw-r--r-- (Lambda needs it readable)
            entry.create_system = 3  # Unix, so the mode above is honoured on any build machine
            archive.writestr(entry, source.joinpath(name).read_bytes(), compresslevel=9)
    return buffer.getvalue()


def build_lambda_zip(output: Path) -> Path:
    """Write the deployment package to ``output`` atomically."""
    try:
        atomic_write_bytes(output, lambda_zip_bytes())
    except OSError as exc:
        raise SentimentAppError(f"Cannot write {output}: {exc.strerror or exc}") from exc
    return output


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
    try:
        written = write_static_site(output, api_url)
    except OSError as exc:
        raise SentimentAppError(f"Cannot write the site into {output}: {exc.strerror or exc}") from exc
    click.echo(f"{len(written)} files in {output}: {', '.join(path.name for path in written)}")
