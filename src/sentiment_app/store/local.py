"""The default store: a local folder laid out like a bucket (``<root>/<key>``)."""

from __future__ import annotations

import shutil
from pathlib import Path

from sentiment_app.errors import ArtifactError
from sentiment_app.fileio import atomic_open, atomic_write_bytes


class LocalStore:
    def __init__(self, root: Path) -> None:
        self.root = root.expanduser().resolve()
        self.uri = str(self.root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise ArtifactError(f"Key {key!r} points outside the store {self.root}")
        return path

    def put_file(self, key: str, source: Path) -> str:
        with open(source, "rb") as src, atomic_open(self._path(key)) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        return self.url(key)

    def put_bytes(self, key: str, data: bytes) -> str:
        atomic_write_bytes(self._path(key), data)
        return self.url(key)

    def get_file(self, key: str, target: Path) -> Path:
        source = self._path(key)
        if not source.is_file():
            raise ArtifactError(f"{self.url(key)} does not exist")
        with open(source, "rb") as src, atomic_open(target) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        return target

    def read_bytes(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise ArtifactError(f"{self.url(key)} does not exist") from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> list[str]:
        base = self._path(prefix) if prefix else self.root
        if base.is_file():
            return [prefix]
        if not base.is_dir():
            return []
        return sorted(
            str(p.relative_to(self.root)) for p in base.rglob("*") if p.is_file() and not p.name.startswith(".")
        )

    def url(self, key: str) -> str:
        return self._path(key).as_uri()
