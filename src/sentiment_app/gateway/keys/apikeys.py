"""The API key store: who may call the gateway, at what rate and daily quota.

A key is ``sa_`` plus 32 random bytes from :mod:`secrets`, shown once at creation and never stored:
``keys.json`` keeps only its sha256. A key carries 256 bits of entropy, so a fast unsalted hash cannot
be reversed by guessing (the reasoning behind GitHub's hashed tokens); a keyed hash would add a second
secret to guard and rotate for no gain. A presented key is looked up by its hash, so no secret is ever
compared byte by byte (nothing for a timing attack to measure).

Files under ``<home>/apikeys/``, each written atomically with mode 0600 in a 0700 folder:
``keys.json`` (written by the CLI, read by the gateway whenever it changes, so revocation needs no
restart) and ``usage.json`` (requests per key per UTC day, written by the gateway, read by
``apikey list``). Every read-modify-write holds an exclusive ``flock``: ``keys.lock`` for the keys,
``usage.lock`` for the usage, to which each gateway on the home adds its own counts.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sentiment_app.errors import SentimentAppError
from sentiment_app.fileio import atomic_open

KEY_PREFIX = "sa_"
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
FILE_MODE, DIR_MODE = 0o600, 0o700


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def utc_day() -> str:
    """Quotas reset at midnight UTC, as API Gateway's daily quotas do."""
    return datetime.now(timezone.utc).date().isoformat()


@dataclass(frozen=True)
class ApiKey:
    """One key's record; ``rate`` in requests per second with a ``burst``, ``quota`` per day; ``None``
    means unlimited. ``revoked`` is when it was revoked, or ``None`` while it is active."""

    name: str
    key_hash: str
    created: str
    rate: float | None = None
    burst: int | None = None
    quota: int | None = None
    revoked: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked is None


@dataclass(frozen=True)
class Usage:
    """Requests admitted for one key: on ``day`` (UTC), and in total."""

    day: str = ""
    today: int = 0
    total: int = 0
    last_used: str | None = None

    def count_today(self, day: str) -> int:
        return self.today if self.day == day else 0

    def plus(self, day: str, admitted: int, last_used: str) -> Usage:
        """With ``admitted`` more requests on ``day``; a day before this record's counts in the total only."""
        today = self.today if day < self.day else self.count_today(day) + admitted
        return Usage(max(self.day, day), today, self.total + admitted, max(self.last_used or "", last_used))


def _write_json(path: Path, value: Any) -> None:
    """Atomic, private: the key hashes and usage are nobody else's business."""
    path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    with atomic_open(path, "w") as f:
        os.fchmod(f.fileno(), FILE_MODE)
        json.dump(value, f, indent=2, sort_keys=True)


class ApiKeyStore:
    """``<home>/apikeys/``: the key records and the gateway's usage counts."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.keys_path = folder / "keys.json"
        self.usage_path = folder / "usage.json"

    # -- reading ------------------------------------------------------------------------------
    def signature(self) -> tuple[int, int, int] | None:
        """Changes whenever ``keys.json`` is replaced: (inode, size, mtime), or None if absent."""
        try:
            st = self.keys_path.stat()
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_size, st.st_mtime_ns

    def load(self) -> dict[str, ApiKey]:
        """All records by name; a store that cannot be read is an error, never an empty store."""
        try:
            raw = json.loads(self.keys_path.read_text("utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise SentimentAppError(f"The API key store {self.keys_path} cannot be read: {exc}") from exc
        try:
            return {name: ApiKey(name=name, **fields) for name, fields in raw["keys"].items()}
        except (KeyError, TypeError, AttributeError) as exc:
            raise SentimentAppError(f"The API key store {self.keys_path} is malformed: {exc!r}") from exc

    def load_usage(self) -> dict[str, Usage]:
        """Usage by key name; missing or unreadable counts start from zero (they are not a secret)."""
        try:
            raw = json.loads(self.usage_path.read_text("utf-8"))
            return {name: Usage(**fields) for name, fields in raw.items()}
        except (OSError, ValueError, TypeError, AttributeError):
            return {}

    # -- changing -----------------------------------------------------------------------------
    @contextmanager
    def _lock(self, name: str) -> Iterator[None]:
        self.folder.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        with open(os.open(self.folder / name, os.O_RDWR | os.O_CREAT, FILE_MODE)) as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def add_usage(self, admitted: dict[tuple[str, str], tuple[int, str]]) -> dict[str, Usage]:
        """Add one gateway's admitted requests, ``(key name, day) → (count, last used)``, to ``usage.json``
        and return every gateway's counts: gateways sharing a home add up instead of overwriting."""
        with self._lock("usage.lock"):
            usage = self.load_usage()
            for (name, day), (count, last_used) in admitted.items():
                usage[name] = usage.get(name, Usage()).plus(day, count, last_used)
            _write_json(self.usage_path, {name: asdict(u) for name, u in sorted(usage.items())})
        return usage

    @contextmanager
    def _locked(self) -> Iterator[dict[str, ApiKey]]:
        """The records under an exclusive lock; written back when the block succeeds."""
        with self._lock("keys.lock"):
            keys = self.load()
            yield keys
            records = {name: {k: v for k, v in asdict(key).items() if k != "name"} for name, key in keys.items()}
            _write_json(self.keys_path, {"keys": dict(sorted(records.items()))})

    def create(self, name: str, rate: float | None = None, burst: int | None = None,
               quota: int | None = None) -> str:
        """Add key ``name`` and return the key itself: the only time it exists outside the caller."""
        if not NAME_PATTERN.fullmatch(name):
            raise SentimentAppError(
                f"Invalid key name {name!r}: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.")
        if rate is not None and burst is None:
            burst = max(1, round(rate))  # one second's worth of requests at once
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        with self._locked() as keys:
            if name in keys and keys[name].active:
                raise SentimentAppError(f"An active API key named {name!r} exists; revoke it first or pick another name.")
            keys[name] = ApiKey(name, hash_key(key), utc_now(), rate, burst, quota)
        return key

    def revoke(self, name: str) -> ApiKey:
        with self._locked() as keys:
            key = keys.get(name)
            if key is None or not key.active:
                raise SentimentAppError(f"No active API key named {name!r}; see `sentiment-app apikey list`.")
            keys[name] = revoked = ApiKey(**{**asdict(key), "revoked": utc_now()})
        return revoked


def find_key(keys_by_hash: dict[str, ApiKey], presented: str) -> ApiKey | None:
    """The active record matching ``presented``, if any."""
    found = keys_by_hash.get(hash_key(presented))
    return found if found is not None and found.active else None
