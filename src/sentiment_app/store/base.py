"""The store interface. Callers use keys like ``sagemaker/sentiment_rnn/<id>/train.csv`` and never
care whether the bytes sit in a local folder or an S3 bucket."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from sentiment_app.store.local import LocalStore


class ArtifactStore(Protocol):
    """A flat key → object space, like an S3 bucket under a prefix."""

    uri: str

    def put_file(self, key: str, source: Path) -> str:
        """Store ``source`` under ``key`` atomically; return the object's URI."""

    def get_file(self, key: str, target: Path) -> Path:
        """Copy the object to ``target`` (written atomically) and return it."""

    def read_bytes(self, key: str) -> bytes: ...

    def put_bytes(self, key: str, data: bytes) -> str: ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str = "") -> list[str]:
        """Keys under ``prefix``, sorted."""

    def url(self, key: str) -> str:
        """The URI of one object (``file://...`` or ``s3://...``)."""


def open_store(uri: str) -> ArtifactStore:
    """The store for a URI: ``s3://bucket/prefix`` or a local folder path (or ``file://``)."""
    if uri.startswith("s3://"):
        from sentiment_app.store.s3 import S3Store  # boto3 loads only for S3 stores

        return S3Store(uri)
    return LocalStore(Path(uri.removeprefix("file://")))
