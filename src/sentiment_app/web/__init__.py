"""The single-page web app: a review box that posts to the sentiment API and shows the answer.

The files in ``static/`` are plain HTML/CSS/JS with no outside requests, so they can be hosted
anywhere (the local gateway, an S3 bucket); ``config.js`` tells the page where the API is.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

DEFAULT_API_URL = "/api/sentiment"


def static_dir() -> Path:
    return Path(str(resources.files("sentiment_app.web").joinpath("static")))


def config_script(api_url: str = DEFAULT_API_URL) -> str:
    """``config.js``: the API URL the page posts reviews to (an API Gateway Invoke URL when deployed)."""
    return f"window.SENTIMENT_API_URL = {json.dumps(api_url)};\n"
