"""API key checks, per-key throttling and daily quotas, as an API Gateway usage plan applies them.

Throttling is per gateway process; the daily counts are shared through the key store's
``usage.json``: each gateway adds what it admitted at most once a second (and at shutdown) and
reads back every gateway's counts, so a restart does not reset a quota and two gateways on one
home share it (each may overshoot it by what the other admitted within the last second). Order per
request: unknown, missing or revoked key → 403; quota for the UTC day used up → 429 "Limit
Exceeded"; token bucket empty → 429 "Too Many Requests"; else admitted and counted. The bodies are
API Gateway's; the 429 texts are unverified.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sentiment_app.errors import SentimentAppError
from sentiment_app.gateway.keys.apikeys import ApiKey, ApiKeyStore, Usage, find_key, utc_day, utc_now

USAGE_FLUSH_S = 1.0  # add to usage.json at most this often (and once more at shutdown)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Denial:
    """A request the gateway answers itself: ``status`` and ``{"message": message}``."""

    status: int
    message: str


FORBIDDEN = Denial(403, "Forbidden")
THROTTLED = Denial(429, "Too Many Requests")
QUOTA_EXCEEDED = Denial(429, "Limit Exceeded")


@dataclass
class TokenBucket:
    """``rate`` tokens per second refill a bucket of ``burst``; a request takes one."""

    rate: float
    burst: int
    tokens: float
    updated: float

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class AccessControl:
    """Decides each API request from the key store, re-read whenever ``keys.json`` changes."""

    def __init__(self, store: ApiKeyStore, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.clock = clock
        self._signature: object = object()  # never equal to a real signature: load on first use
        self._keys: dict[str, ApiKey] = {}
        self._buckets: dict[str, TokenBucket] = {}
        self._usage = store.load_usage()  # every gateway's counts as last read, plus ours since
        self._admitted: dict[tuple[str, str], tuple[int, str]] = {}  # ours not yet added to usage.json
        self._flushed = clock()

    def _refresh(self) -> None:
        signature = self.store.signature()
        if signature == self._signature:
            return
        self._signature = signature
        try:
            keys = self.store.load()
        except SentimentAppError as exc:  # fail closed: a store we cannot read admits nobody
            logger.error("%s; refusing every API key until it is fixed", exc)
            keys = {}
        self._keys = {key.key_hash: key for key in keys.values()}
        self._buckets = {h: b for h, b in self._buckets.items() if h in self._keys}

    def active_keys(self) -> int:
        self._refresh()
        return sum(key.active for key in self._keys.values())

    def check(self, presented: str | None) -> Denial | None:
        """``None`` to admit the request (and count it), else the gateway's answer."""
        self._refresh()
        now = self.clock()
        if now - self._flushed >= USAGE_FLUSH_S:
            self.flush()
        key = find_key(self._keys, presented) if presented else None
        if key is None:
            return FORBIDDEN
        day = utc_day()
        usage = self._usage.get(key.name, Usage())
        if key.quota is not None and usage.count_today(day) >= key.quota:
            return QUOTA_EXCEEDED
        if key.rate is not None:
            bucket, burst = self._buckets.get(key.key_hash), key.burst or 1
            if bucket is None or (bucket.rate, bucket.burst) != (key.rate, burst):
                bucket = self._buckets[key.key_hash] = TokenBucket(key.rate, burst, burst, now)
            if not bucket.take(now):
                return THROTTLED
        stamp = utc_now()
        self._usage[key.name] = usage.plus(day, 1, stamp)
        count, _ = self._admitted.get((key.name, day), (0, stamp))
        self._admitted[key.name, day] = (count + 1, stamp)
        return None

    def flush(self) -> None:
        """Add what this gateway admitted to ``usage.json`` and take every gateway's counts from it
        (a failure is logged, never fails a request; the counts are added on a later flush). Runs
        on the first request after each interval, so an idle gateway still sees the others' counts."""
        self._flushed = self.clock()  # also after a failure: retry on the next interval, not every request
        try:
            self._usage = self.store.add_usage(self._admitted) if self._admitted else self.store.load_usage()
        except OSError as exc:
            logger.error("Could not save API key usage to %s: %s", self.store.usage_path, exc)
            return
        self._admitted = {}
