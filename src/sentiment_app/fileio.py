"""Files written whole or not at all: write to a temporary sibling, fsync, then rename.

A write that fails for lack of room or permission raises :class:`StorageError` (one clear line for
the CLI) after removing its temporary file.
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from sentiment_app.errors import StorageError

_UMASK = os.umask(0)
os.umask(_UMASK)

NO_ROOM = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS})
"""Errors only a write gives (full disk, file-size limit, quota, read-only file system)."""


def storage_error(path: Path, exc: OSError) -> StorageError:
    """The one-line message for a write that failed, with the reason the system gave."""
    return StorageError(f"Cannot write {path}: {exc.strerror or exc}; no partial file was left behind.")


@contextmanager
def creating(path: Path) -> Iterator[None]:
    """Around making a file or its folder: any OSError means ``path`` cannot be written there."""
    try:
        yield
    except OSError as exc:
        raise storage_error(path, exc) from exc


@contextmanager
def atomic_open(path: Path, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file next to ``path``; it replaces ``path`` only if the block succeeds."""
    with creating(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the usual mode
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno in NO_ROOM:
            raise storage_error(path, exc) from exc
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    with atomic_open(path, "wb") as f:
        f.write(data)


def sha256_stream(f: IO[bytes]) -> str:
    """Hex SHA-256 of what is left in ``f``, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    for block in iter(lambda: f.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def sha256_file(path: Path) -> str:
    with open(path, "rb") as f:
        return sha256_stream(f)
