"""Access control without a gateway: the API-key CLI, the token buckets and daily quotas (on a fake
clock) and the key store shared by several gateways. (Through a running gateway:
``tests/system/test_access.py``.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sentiment_app.cli import main
from sentiment_app.errors import SentimentAppError
from sentiment_app.gateway.keys.access import QUOTA_EXCEEDED, USAGE_FLUSH_S, AccessControl
from sentiment_app.gateway.keys.apikeys import ApiKeyStore
from tests.serving_support import create_key, key_usage
from tests.support import cli_in_home


def test_cli_refuses_bad_names_and_duplicates(tmp_path: Path) -> None:
    create_key(tmp_path, "alice", "--rate", "5", "--quota", "1000")
    duplicate = cli_in_home(tmp_path, "apikey", "create", "alice")
    assert duplicate.exit_code == 1 and "exists" in duplicate.stderr
    bad = cli_in_home(tmp_path, "apikey", "create", "../etc")
    assert bad.exit_code == 1 and "Invalid key name" in bad.stderr
    unknown = cli_in_home(tmp_path, "apikey", "revoke", "bob")
    assert unknown.exit_code == 1 and "No active API key named 'bob'" in unknown.stderr
    burst_alone = cli_in_home(tmp_path, "apikey", "create", "carol", "--burst", "3")
    assert burst_alone.exit_code == 2 and "--burst needs --rate" in burst_alone.stderr
    listed = key_usage(tmp_path)["alice"]
    assert (listed["rate"], listed["burst"], listed["quota"]) == (5.0, 5, 1000)
    for command in (["apikey", "--help"], ["apikey", "create", "--help"], ["serve", "--help"]):
        helped = CliRunner().invoke(main, command)
        assert helped.exit_code == 0 and "Usage:" in helped.stdout
    assert "--require-api-key" in helped.stdout and "--cors-origin" in helped.stdout


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_refills_at_the_rate(tmp_path: Path) -> None:
    store = ApiKeyStore(tmp_path)
    key = store.create("k", rate=2, burst=3)
    clock = FakeClock()
    access = AccessControl(store, clock)
    assert [access.check(key) for _ in range(4)][-1].message == "Too Many Requests"
    clock.now += 0.5  # one token back at 2/s
    assert access.check(key) is None and access.check(key) is not None
    clock.now += 10  # refills to the burst, never beyond
    assert [access.check(key) is None for _ in range(4)] == [True, True, True, False]


def test_rate_without_a_burst_allows_one_at_a_time(tmp_path: Path) -> None:
    store = ApiKeyStore(tmp_path)
    key = store.create("bare", rate=1)
    raw = json.loads(store.keys_path.read_text())
    raw["keys"]["bare"]["burst"] = None  # a record written without a burst
    store.keys_path.write_text(json.dumps(raw))
    clock = FakeClock()
    access = AccessControl(store, clock)
    assert access.check(key) is None and access.check(key) is not None
    clock.now += 1
    assert access.check(key) is None


def test_unreadable_store_admits_nobody(tmp_path: Path) -> None:
    store = ApiKeyStore(tmp_path)
    key = store.create("k")
    access = AccessControl(store)
    assert access.check(key) is None
    store.keys_path.write_text("{not json")
    assert access.check(key).status == 403
    with pytest.raises(SentimentAppError, match="cannot be read"):
        store.load()


def test_gateways_sharing_a_home_add_up_usage_and_share_the_quota(tmp_path: Path) -> None:
    """Two gateways on one home (two access controls over one key folder, as two processes have):
    ``usage.json`` holds the sum of both, and each sees the other's counts after its next flush."""
    folder = tmp_path / "apikeys"  # where `apikey list --home tmp_path` reads
    key = ApiKeyStore(folder).create("shared", quota=5)
    clock_a, clock_b = FakeClock(), FakeClock()
    a, b = AccessControl(ApiKeyStore(folder), clock_a), AccessControl(ApiKeyStore(folder), clock_b)
    assert [a.check(key) for _ in range(3)] + [b.check(key)] == [None] * 4
    a.flush()
    b.flush()
    listed = key_usage(tmp_path)["shared"]
    assert (listed["requests_today"], listed["requests_total"]) == (4, 4)
    clock_b.now += USAGE_FLUSH_S  # b's next request reads a's counts first
    assert b.check(key) is None and b.check(key) == QUOTA_EXCEEDED  # the 5th, then the quota
    b.flush()
    clock_a.now += USAGE_FLUSH_S
    assert a.check(key) == QUOTA_EXCEEDED
    a.flush()  # nothing new to add: the counts stay as they are
    assert key_usage(tmp_path)["shared"]["requests_total"] == 5
