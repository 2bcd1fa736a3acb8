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
    source = resources.files("sentiment_app.gateway.function")
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


def build_static_site(output: Path, api_url: str) -> list[Path]:
    """Write the page's static files into ``output`` with ``config.js`` pointing at ``api_url``."""
    try:
        return write_static_site(output, api_url)
    except OSError as exc:
        raise SentimentAppError(f"Cannot write the site into {output}: {exc.strerror or exc}") from exc
