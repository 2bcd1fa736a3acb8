"""Names of the SageMaker resources the project creates: unique (a UTC stamp) and valid."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from sentiment_app.errors import SentimentAppError

_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*")
STAMP_LENGTH = len("20260101-000000-000")


def stamp() -> str:
    """UTC time to the millisecond, for unique resource names."""
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-%f")[:STAMP_LENGTH]


def checked_name(name: str, what: str, room: int = 0) -> str:
    """A SageMaker resource name (letters, digits, hyphens; ≤ 63 chars less ``room`` for suffixes)."""
    limit = 63 - room
    if not _NAME.fullmatch(name) or len(name) > limit:
        raise SentimentAppError(f"Invalid {what} {name!r}: use letters, digits and single hyphens, "
                                f"start and end with a letter or digit, at most {limit} characters.")
    return name
