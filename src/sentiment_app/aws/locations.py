"""Where the project's objects live in S3: one ``s3://bucket/prefix`` and fixed keys under it.

Layout: ``data/`` the processed data as training channels (see ``channels``),
``jobs/<job>/source/sourcedir.tar.gz`` the code, ``output/`` the training output,
``checkpoints/<job>/``, ``models/<model>/model.tar.gz`` serving archives,
``transform/<job>/{input,output}/`` and ``datacapture/<endpoint>/<variant>/`` (what Data Capture
writes). Objects move through the project's S3 artifact store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from sentiment_app.errors import SentimentAppError
from sentiment_app.serving.capture import PREFIX as CAPTURE_PREFIX  # where Data Capture writes, locally too
from sentiment_app.store import ArtifactStore, open_store
from sentiment_app.store.s3 import parse_s3_uri

DEFAULT_PREFIX = "sentiment-app"
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str = DEFAULT_PREFIX

    @classmethod
    def parse(cls, bucket: str | None, prefix: str | None = None) -> S3Location:
        """From ``--bucket NAME [--prefix P]`` or ``--bucket s3://NAME/P`` (the URI's prefix wins)."""
        if not bucket:
            raise SentimentAppError("No S3 bucket: pass --bucket NAME (or s3://NAME/PREFIX) or set SENTIMENT_APP_BUCKET.")
        name, key = parse_s3_uri(bucket if bucket.startswith("s3://") else f"s3://{bucket}")
        if not _BUCKET.fullmatch(name):
            raise SentimentAppError(f"Invalid S3 bucket name {name!r}")
        return cls(name, key or (prefix if prefix is not None else DEFAULT_PREFIX).strip("/"))

    def uri(self, key: str = "") -> str:
        """The ``s3://`` URI of ``key`` under the prefix (a folder when ``key`` ends with ``/``)."""
        return "s3://" + "/".join(part for part in (self.bucket, self.prefix, key) if part)

    @cached_property
    def store(self) -> ArtifactStore:
        """The artifact store rooted at ``s3://bucket/prefix``."""
        return open_store(self.uri())
