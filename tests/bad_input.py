"""The catalogue of bad input every entry point must answer, and the fuzzers' strategies."""

from __future__ import annotations

import functools
import json
import random
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, settings

from sentiment_app.wire import MAX_BODY_BYTES
from tests.support import POSITIVE

TEXT, JSON, XML, BINARY = "text/plain", "application/json", "application/xml", "application/octet-stream"
SCORED = ""  # a batch line that gets a verdict
NA = None  # the row does not apply to this entry point
ENTRY_POINTS = ("server", "runtime", "gateway", "batch", "cli")


@dataclass(frozen=True)
class Case:
    name: str
    raw: bytes | Callable[[], bytes]  # the body, or what makes it (a slow one is made on first use)
    content_type: str | None
    server: int  # status at /invocations
    runtime: int  # status at /endpoints/{name}/invocations
    gateway: int  # status at /api/sentiment
    message: str  # what every error message says (a case-insensitive regex); "" for a verdict
    batch: str | None  # the batch line's error (regex), SCORED, or None: not applicable
    cli: int | None  # exit status of `aws invoke`, or None: not applicable

    @property
    def body(self) -> bytes:
        return self.raw() if callable(self.raw) else self.raw


@functools.cache
def words_100k() -> bytes:
    """Made-up words: each one new to the stemmer, the slowest kind of long review (made on first use)."""
    return " ".join("".join(random.Random(i).choices(string.ascii_lowercase, k=4 + i % 7))
                    for i in range(100_000)).encode()


OVER_6_MB = b"great " * (MAX_BODY_BYTES // 6 + 100_000)  # about 6.6 MB: over the endpoint's and Lambda's limit
OVER_10_MB = b"great " * (10 * 2**20 // 6 + 100_000)  # over the gateway's own limit too
NESTED = b"[" * 50_000 + b"]" * 50_000  # deeper than Python's JSON parser can go
RTL_AND_EMOJI = "😀🎬 סרט נפלא, אהבתי! فيلم رائع جدا 👍🏽 A wonderful film".encode()
HTML = b'<script>alert("x")</script><img src=x onerror=alert(1)><b>A wonderful</b> film, <i>loved</i> it'
HTML_JSON = json.dumps({"review": HTML.decode()}).encode()


#    name                    body                              type    server run gateway message      batch           cli
CATALOGUE = [
    Case("empty body",           b"",                          TEXT,   400, 424, 400, "empty",        "empty line",   1),
    Case("whitespace only",      b" \t \r\n \n",               TEXT,   400, 424, 400, "empty",        "empty line",   1),
    Case("invalid UTF-8",        b"caf\xe9 was \xff great",     TEXT,   400, 424, 400, "UTF-8",        "UTF-8",        1),
    Case("invalid UTF-8 in JSON", b'{"review": "caf\xe9"}',     JSON,   400, 424, 400, "UTF-8",        "UTF-8",        1),
    Case("missing content type", POSITIVE.encode(),            None,   415, 424, 200, "content type", NA,             NA),
    Case("wrong content type",   POSITIVE.encode(),            XML,    415, 424, 415, "content type", NA,             2),
    Case("binary content type",  POSITIVE.encode(),            BINARY, 415, 424, 415, "content type", NA,             2),
    Case("malformed JSON",       b'{"review": "a great film"', JSON,   400, 424, 400, "JSON",         SCORED,         1),
    Case("JSON number",          b"5",                         JSON,   400, 424, 400, "review",       SCORED,         1),
    Case("JSON list of numbers", b"[1, 2, 3]",                 JSON,   400, 424, 400, "review",       SCORED,         1),
    Case("JSON string",          b'"a great film"',            JSON,   400, 424, 400, "review",       SCORED,         1),
    Case("JSON null",            b"null",                      JSON,   400, 424, 400, "review",       SCORED,         1),
    Case("review not a string",  b'{"review": 5}',             JSON,   400, 424, 400, "review",       SCORED,         1),
    Case("nested review",        b'{"review": {"a": ["b"]}}',  JSON,   400, 424, 400, "review",       SCORED,         1),
    Case("instances of numbers", b'{"instances": [1, 2]}',     JSON,   400, 424, 400, "review",       SCORED,         1),
    Case("deeply nested JSON",   NESTED,                       JSON,   400, 424, 400, "JSON",         SCORED,         NA),
    Case("NUL byte",             b"a fine\x00 film",           TEXT,   400, 424, 400, "NUL",          "NUL",          NA),
    Case("NUL byte in JSON",     b'{"review": "a\\u0000 b"}',  JSON,   400, 424, 400, "NUL",          SCORED,         NA),
    Case("over 6 MB",            OVER_6_MB,                    TEXT,   413, 400, 413, "limit|too long", "record limit", NA),
    Case("over 10 MB",           OVER_10_MB,                   TEXT,   413, 400, 413, "limit|too long", NA,           NA),
    Case("100,000 words",        words_100k,                   TEXT,   200, 200, 200, "",             SCORED,         NA),
    Case("emoji and RTL",        RTL_AND_EMOJI,                TEXT,   200, 200, 200, "",             SCORED,         0),
    Case("HTML and script tags", HTML,                         TEXT,   200, 200, 200, "",             SCORED,         0),
    Case("HTML in JSON",         HTML_JSON,                    JSON,   200, 200, 200, "",             NA,             0),
    Case("lone surrogate",       rb'{"review": "bad \ud800 film"}', JSON, 400, 424, 400, "surrogate", SCORED,   1),
    Case("lone surrogate in instances", rb'{"instances": ["fine", "\udfff"]}', JSON, 400, 424, 400, "surrogate", SCORED, 1),
]


def applies(case: Case, entry: str) -> bool:
    return {"batch": case.batch is not None, "cli": case.cli is not None}.get(entry, True)


def catalogue_table(*entries: str) -> list[Any]:
    """``pytest.param(case, entry)`` for every row of the catalogue that applies at each of ``entries``."""
    return [pytest.param(case, entry, id=re.sub(r"[^a-z0-9]+", "-", f"{case.name} {entry}".lower()))
            for case in CATALOGUE for entry in entries if applies(case, entry)]


KNOWN_TYPES = ["text/plain", "text/plain; charset=utf-8", "TEXT/PLAIN", "application/json", "text/csv",
               "application/x-www-form-urlencoded", "text/html", "application/xml", "image/png", "*/*", ""]
FUZZ = settings(max_examples=100, deadline=None, derandomize=True, database=None,  # the same cases every run
                suppress_health_check=list(HealthCheck))
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
    | st.sampled_from(["bad \ud800 film", "\udfff"])  # lone surrogates: JSON escapes them, yet not Unicode text
    | st.sampled_from([[], {}]),
    lambda inner: st.lists(inner, min_size=1, max_size=4) | st.dictionaries(st.text(max_size=8), inner, min_size=1,
                                                                             max_size=4),
    max_leaves=8,
)
REQUESTS = (
    st.fixed_dictionaries({"review": st.text(max_size=200) | JSON_VALUES},
                          optional={"explain": st.booleans() | JSON_VALUES})
    | st.fixed_dictionaries({"instances": st.lists(st.text(max_size=80) | JSON_VALUES, max_size=5)})
    | JSON_VALUES
)
BODIES = (
    st.binary(max_size=300)
    | st.text(max_size=300).map(str.encode)
    | REQUESTS.map(lambda value: json.dumps(value).encode())
    | st.sampled_from([b"", b" \n\t", b"\x00", b"[" * 5000, POSITIVE.encode(), b"<script>alert(1)</script>"])
)
CONTENT_TYPES = st.none() | st.sampled_from(KNOWN_TYPES) | st.text(max_size=30)
ACCEPTS = st.none() | st.sampled_from(["application/json", "text/plain", "*/*", "image/png", "image/png, text/plain",
                                       "application/*", ""]) | st.text(max_size=30)
