"""Request ids as the servers make them. (Logs, ``/metrics`` and health over real HTTP:
``tests/system/test_observability.py``.)"""

from __future__ import annotations

import uuid

from sentiment_app.http_common.observability import new_request_id


def test_request_ids_are_distinct_version_4_uuids() -> None:
    ids = [new_request_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(i).version == 4 and str(uuid.UUID(i)) == i for i in ids[:100])
