"""The single-page web app: a review box that posts to the sentiment API and shows the answer.

The files in ``static/`` are plain HTML/CSS/JS with no outside requests, so they can be hosted
anywhere (the local gateway, an S3 bucket); ``config.js`` tells the page where the API is.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from sentiment_app.fileio import atomic_write_bytes
from sentiment_app.wire import SENTIMENT_ROUTE

DEFAULT_API_URL = SENTIMENT_ROUTE


def static_dir() -> Path:
    return Path(str(resources.files("sentiment_app.web").joinpath("static")))


def config_script(api_url: str = DEFAULT_API_URL, api_key_required: bool = False) -> str:
    """``config.js``: the API URL the page posts reviews to (an API Gateway Invoke URL when deployed),
    and whether the page must ask its user for an API key. It never carries a key: anyone can read it."""
    script = f"window.SENTIMENT_API_URL = {json.dumps(api_url)};\n"
    return script + ("window.SENTIMENT_API_KEY_REQUIRED = true;\n" if api_key_required else "")


def write_static_site(directory: Path, api_url: str) -> list[Path]:
    """The page as plain files for any static host (e.g. an S3 website), ``config.js`` pointing at
    ``api_url``; each file is written atomically. Returns the files written, sorted."""
    files = {path.name: path.read_bytes() for path in static_dir().iterdir() if path.is_file()}
    files["config.js"] = config_script(api_url).encode("utf-8")
    written = []
    for name in sorted(files):
        atomic_write_bytes(directory / name, files[name])
        written.append(directory / name)
    return written
