"""Helpers shared by the test layers (``tests/unit``: no data set, no servers, no subprocesses;
``tests/system``: the real data, real servers, a real browser, subprocesses). Fixtures live in the
``conftest.py`` files; everything a test module would otherwise import from another lives here.
Modules only the system layer needs (uvicorn, moto's server, playwright) are imported where used.
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
import json
import os
import random
import re
import socket
import string
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import hypothesis.strategies as st
import numpy as np
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, settings
from prometheus_client.parser import text_string_to_metric_families

from sentiment_app.artifacts.locate import bundled_model_dir
from sentiment_app.cli import main
from sentiment_app.data.dataset import Reviews
from sentiment_app.gateway.api.local_stack import local_url, start_endpoint, stop_process, wait_until_ready
from sentiment_app.wire import MAX_BODY_BYTES
from sentiment_app.serving.options import ServerOptions
from sentiment_app.settings import ENV_DATA

REPO = Path(__file__).resolve().parents[1]
INFRA_TEMPLATE = REPO / "infra" / "template.yaml"
CLI = str(Path(sys.executable).with_name("sentiment-app"))
POSITIVE = "A wonderful, moving film with brilliant acting; I loved every minute."
NEGATIVE = "Dreadful, boring and stupid. The worst movie I have ever seen, a total waste of time."
POSITIVE_WORDS = {"wonderful", "brilliant", "loved", "moving"}  # the words that make POSITIVE positive
NEGATIVE_WORDS = {"dreadful", "boring", "stupid", "worst", "waste"}
MIXED_REVIEWS = [POSITIVE, NEGATIVE, "Funny, charming and heartfelt: a perfect family film.",
                 "A boring mess with no plot. I hated it."]
NGRAM_REVIEWS = ["Not good. Not good at all!", "A fine, fine film.", "", "<br />Great fun, didn't expect it"]


# -- the IMDB data -------------------------------------------------------------------------------------

MISSING_DATA = "IMDB data "  # how every message about missing data begins


def data_dir() -> Path:
    """Where the tests look for the IMDB data: ``SENTIMENT_APP_DATA``, else ``../shared/data``."""
    return Path(os.environ.get(ENV_DATA) or REPO.parent / "shared" / "data")


def in_ci() -> bool:
    """``CI=true`` (or any value but empty, 0, false or no), as CI services and ``.ci/run`` set it."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def imdb_data(*needed: str) -> Path:
    """The IMDB data folder, with the train/test split and every file or folder in ``needed`` (e.g.
    ``"unsup.csv.gz"``, ``"short"``). Where something is missing the test is skipped with one line
    saying where the data was looked for, but under CI it fails: CI must never pass without them."""
    path = data_dir()
    if not all((path / name).is_file() for name in ("train.csv.gz", "test.csv.gz")):
        message = f"{MISSING_DATA}not found at {path}; set {ENV_DATA} (see README)"
    elif missing := [name for name in needed if not (path / name).exists()]:
        message = f"{MISSING_DATA}at {path} lacks {', '.join(missing)}; set {ENV_DATA} (see README)"
    else:
        return path
    if in_ci():
        pytest.fail(f"{message} (CI is set: tests that need the data fail without it)", pytrace=False)
    pytest.skip(message)


def csv_gz(reviews: Reviews) -> bytes:
    """One split in the CSV-pair form (``id,rating,label,text``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "rating", "label", "text"])
    for i, (text, label) in enumerate(zip(reviews.texts, reviews.labels.tolist())):
        writer.writerow([i, 10 if label else 1, label, text])
    return gzip.compress(buffer.getvalue().encode("utf-8"))


# A tiny data set in every form the loader reads.
TINY_TRAIN = Reviews(["Loved it <br />great", "Awful, just awful.", "Bad acting"], np.array([1, 0, 0]))
TINY_TEST = Reviews(["Superb!", "Boring film"], np.array([1, 0]))


def aclimdb_files(split: str, reviews: Reviews) -> Iterator[tuple[str, str]]:
    """(path, text) of each review as the official ``aclImdb`` folder names it."""
    for i, (text, label) in enumerate(zip(reviews.texts, reviews.labels.tolist())):
        yield f"aclImdb/{split}/{'pos' if label else 'neg'}/{i}_{9 if label else 2}.txt", text


def make_archive(path: Path) -> Path:
    """The tiny data set as ``aclImdb_v1.tar.gz``."""
    with tarfile.open(path, "w:gz") as archive:
        for split, reviews in (("train", TINY_TRAIN), ("test", TINY_TEST)):
            for name, text in aclimdb_files(split, reviews):
                data = text.encode()
                info = tarfile.TarInfo(name)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("aclImdb/README")
        info.size = 2
        archive.addfile(info, io.BytesIO(b"hi"))
    return path


def as_sets(splits: dict[str, Reviews]) -> dict[str, set[tuple[str, int]]]:
    return {name: set(zip(r.texts, r.labels.tolist())) for name, r in splits.items()}


def notebook_review_to_words(review: str) -> list[str]:
    """The original project's function (with the shipped stopword list instead of nltk.download)."""
    from bs4 import BeautifulSoup
    from nltk.stem.porter import PorterStemmer

    from sentiment_app.features.text import stopwords

    text = BeautifulSoup(review, "html.parser").get_text()
    text = re.sub(r"[^a-zA-Z0-9]", " ", text.lower())
    words = [w for w in text.split() if w not in stopwords()]
    return [PorterStemmer().stem(w) for w in words]


# -- files ---------------------------------------------------------------------------------------------

def write_lines(path: Path, lines: list[bytes], end: bytes = b"\n") -> Path:
    path.write_bytes(b"".join(line + end for line in lines))
    return path


def read_json_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


# -- the command line, in-process ----------------------------------------------------------------------

def cli_in_home(home: Path, *args: str) -> Result:
    """The real command line, in-process (starting the CLI costs seconds on a busy machine)."""
    return CliRunner().invoke(main, [*args, "--home", str(home)])


def batch_cli(home: Path, source: Path, *options: str) -> tuple[int, str, str]:
    done = CliRunner().invoke(main, ["batch-transform", str(source), "--home", str(home), *options])
    return done.exit_code, done.stdout, done.stderr


def create_key(home: Path, name: str, *options: str) -> str:
    """``sentiment-app apikey create``; the key it prints."""
    done = cli_in_home(home, "apikey", "create", name, *options)
    assert done.exit_code == 0, done.output
    key = done.stdout.strip()
    assert key.startswith("sa_") and len(key) > 40 and "\n" not in key
    return key


def key_usage(home: Path) -> dict[str, dict]:
    """``sentiment-app apikey list --json``, by key name."""
    done = cli_in_home(home, "apikey", "list", "--json")
    assert done.exit_code == 0, done.output
    return {row["name"]: row for row in json.loads(done.stdout)}


Cli = Callable[..., Result]


def endpoint_cli(home: Path) -> Cli:
    """``sentiment-app endpoint ARGS --home HOME``, asserting it succeeds (or, with ``ok=False``, fails)."""
    def run(*args: str, ok: bool = True) -> Result:
        result = CliRunner().invoke(main, ["endpoint", *args, "--home", str(home)])
        assert (result.exit_code == 0) == ok, result.output
        return result

    return run


def build_zip_with_cli(output: Path) -> Path:
    """The Lambda package, built by ``sentiment-app aws lambda-package``."""
    from sentiment_app.cli.aws import lambda_package

    result = CliRunner().invoke(lambda_package, ["--output", str(output)])
    assert result.exit_code == 0, result.output
    assert str(output) in result.output and "lambda_function.lambda_handler" in result.output
    return output


# -- servers on loopback and their metrics -------------------------------------------------------------

def parse_metrics(text: str) -> dict[tuple[str, frozenset], float]:
    """A ``/metrics`` page parsed by Prometheus's own parser: (sample name, labels) → value."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def in_flight(base: str) -> float:
    """The server's ``http_requests_in_flight`` gauge, as one new scrape sees it (counting itself)."""
    return parse_metrics(httpx.get(f"{base}/metrics").text)[("http_requests_in_flight", frozenset())]


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running(app: Any) -> Iterator[str]:
    """A Starlette app under uvicorn in a background thread; yields its URL once startup is complete."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@dataclass
class ServedApp:
    url: str
    port: int
    endpoint_port: int
    process: subprocess.Popen[bytes]


@contextmanager
def served_app(home: Path, *options: str, log: Path | None = None, model: Path | None = bundled_model_dir()
               ) -> Iterator[ServedApp]:
    """``sentiment-app serve`` with ``model`` (None: serve's own default) on free ports, ready to answer;
    extra ``options`` are passed on, and ``log`` (if given) receives everything the process tree prints."""
    port, endpoint_port = free_port(), free_port()
    command = [CLI, "serve", "--home", str(home), *(["--model", str(model)] if model else []),
               "--port", str(port), "--endpoint-port", str(endpoint_port), *options]
    output = open(log, "wb") if log else None  # noqa: SIM115 (closed below, after the process)
    process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT if output else None)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_ready(f"{url}/", process)
        yield ServedApp(url, port, endpoint_port, process)
    finally:
        stop_process(process)
        if output:
            output.close()


@contextmanager
def running_endpoint(name: str) -> Iterator[str]:
    """The endpoint server with the bundled model on a free port; yields its URL once ``/ping`` answers."""
    port = free_port()
    process = start_endpoint(bundled_model_dir(), ServerOptions(port=port, name=name))
    try:
        url = local_url("127.0.0.1", port)
        wait_until_ready(f"{url}/ping", process)
        yield url
    finally:
        stop_process(process)


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's standalone AWS-API server on a free loopback port (the AWS cloud cannot run here)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


# -- the web page in a browser (system layer) ----------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def playwright_api() -> Any:
    """Playwright's sync API; skips the test where playwright or Debian chromium is missing."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip(f"Debian chromium is not installed at {CHROMIUM}")
    return sync_api


# -- the Lambda function's events ----------------------------------------------------------------------

LAMBDA_ENDPOINT = "test-sentiment"
Event = dict[str, Any]


def lambda_rest_event(body: str | None, content_type: str = "text/plain;charset=UTF-8", method: str = "POST",
                      base64_encoded: bool = False) -> Event:
    """Payload format 1.0, as the contract document shows it (client header casing, nulls for empties)."""
    headers = {"Content-Type": content_type, "Origin": "null"}
    return {
        "resource": "/", "path": "/", "httpMethod": method,
        "headers": headers, "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": None, "stageVariables": None,
        "requestContext": {"accountId": "123456789012", "apiId": "a1b2c3", "resourcePath": "/", "httpMethod": method,
                           "path": "/prod/", "stage": "prod", "requestId": "c6af9ac6-0000",
                           "identity": {"sourceIp": "192.0.2.1", "userAgent": "pytest"}},
        "body": body, "isBase64Encoded": base64_encoded,
    }


def lambda_http_event(body: str | None, content_type: str = "text/plain;charset=utf-8", method: str = "POST",
                      base64_encoded: bool = False) -> Event:
    """Payload format 2.0: lower-case headers, the method under ``requestContext.http``."""
    return {
        "version": "2.0", "routeKey": "POST /predict", "rawPath": "/predict", "rawQueryString": "",
        "headers": {"content-type": content_type, "x-forwarded-for": "192.0.2.1"},
        "requestContext": {"accountId": "123456789012", "apiId": "api-id", "requestId": "id", "stage": "$default",
                           "http": {"method": method, "path": "/predict", "protocol": "HTTP/1.1",
                                    "sourceIp": "192.0.2.1", "userAgent": "pytest"}},
        "body": body, "pathParameters": None, "isBase64Encoded": base64_encoded, "stageVariables": None,
    }


LAMBDA_EVENTS = pytest.mark.parametrize("make_event", [lambda_rest_event, lambda_http_event],
                                        ids=["rest-1.0", "http-2.0"])


def set_lambda_env(monkeypatch: pytest.MonkeyPatch, endpoint_url: str) -> None:
    """What the function's configuration would set, with dummy credentials for SigV4 signing."""
    for name, value in {"ENDPOINT_NAME": LAMBDA_ENDPOINT, "SAGEMAKER_RUNTIME_ENDPOINT_URL": endpoint_url,
                        "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CORS_ALLOW_ORIGIN", raising=False)


def response_header(response: Event, name: str) -> str:
    return {key.lower(): value for key, value in response["headers"].items()}[name.lower()]


def response_json(response: Event) -> dict[str, Any]:
    assert response_header(response, "Content-Type") == "application/json"
    return json.loads(response["body"])


def assert_lambda_error(response: Event, status: int, *words: str) -> None:
    """An error the caller can show: the status, a JSON message, CORS so a browser can read it."""
    assert response["statusCode"] == status
    message = response_json(response)["message"]
    assert set(response_json(response)) == {"message"} and "Traceback" not in message
    for word in words:
        assert word in message
    assert response_header(response, "Access-Control-Allow-Origin") == "*"


# -- the bad-input catalogue (its entry points are described in tests/system/test_bad_input.py) --------

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
]


def applies(case: Case, entry: str) -> bool:
    return {"batch": case.batch is not None, "cli": case.cli is not None}.get(entry, True)


def catalogue_table(*entries: str) -> list[Any]:
    """``pytest.param(case, entry)`` for every row of the catalogue that applies at each of ``entries``."""
    return [pytest.param(case, entry, id=re.sub(r"[^a-z0-9]+", "-", f"{case.name} {entry}".lower()))
            for case in CATALOGUE for entry in entries if applies(case, entry)]


# -- fuzzing strategies (hypothesis) -------------------------------------------------------------------

KNOWN_TYPES = ["text/plain", "text/plain; charset=utf-8", "TEXT/PLAIN", "application/json", "text/csv",
               "application/x-www-form-urlencoded", "text/html", "application/xml", "image/png", "*/*", ""]
FUZZ = settings(max_examples=100, deadline=None, derandomize=True, database=None,  # the same cases every run
                suppress_health_check=list(HealthCheck))
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
    | st.sampled_from(["bad \ud800 film", "\udfff"]),  # lone surrogates: JSON escapes them, yet not Unicode text
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
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


# -- the ``aws`` commands against moto in-process ------------------------------------------------------
# moto keeps the control plane (jobs complete at once, nothing runs), so two stand-ins play the
# containers, hooked on the real calls: the training job unpacks the uploaded ``sourcedir.tar.gz`` and
# runs its entry script (a subprocess: system layer only) on the uploaded channels with the
# hyperparameters decoded as the training toolkit does; the transform job loads the model archive the
# job names and answers mini-batches of the input lines through the real inference handler.

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
BUCKET = "sentiment-test-bucket"


def aws_cli(*args: str, input: str | None = None, code: int = 0) -> str:
    """``sentiment-app aws ARGS`` in-process, asserting its exit status; its output."""
    result = CliRunner().invoke(main, ["aws", *args], input=input, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def last_json(output: str) -> dict[str, Any]:
    return json.loads(output.strip().splitlines()[-1])


def s3_objects(uri: str) -> dict[str, bytes]:
    """Every object under an ``s3://`` prefix, by key."""
    import boto3

    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    s3 = boto3.client("s3", region_name=REGION)
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for o in page.get("Contents", [])]
    return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def put_s3(uri: str, data: bytes) -> None:
    import boto3

    bucket, _, key = uri.removeprefix("s3://").partition("/")
    boto3.client("s3", region_name=REGION).put_object(Bucket=bucket, Key=key, Body=data)


def extract(data: bytes, target: Path) -> Path:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(target, filter="data")
    return target


@dataclass
class Recorder:
    """The SageMaker (and Application Auto Scaling) calls the commands make, as (operation, API
    parameters), in order."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    scripted: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    containers: bool = True

    def record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, json.loads(json.dumps(params, default=str))))

    def answer_scripted(self, model: Any, **_: Any) -> tuple[Any, dict[str, Any]] | None:
        """The next scripted answer for this operation instead of moto's (whose resources never change state)."""
        from botocore.awsrequest import AWSResponse

        queue = self.scripted.get(model.name)
        return (AWSResponse("", 200, {}, None), queue.pop(0)) if queue else None

    def run_container(self, model: Any, http_response: Any, **_: Any) -> None:
        from tests.sagemaker_containers import CONTAINERS

        if self.containers and model.name in CONTAINERS and http_response.status_code == 200:
            CONTAINERS[model.name](self.params(model.name)[-1])

    def operations(self, *, skip: tuple[str, ...] = ("ListTags",)) -> list[str]:
        return [name for name, _ in self.calls if name not in skip]

    def params(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == operation]

    def clear(self) -> None:
        self.calls.clear()


@contextmanager
def recording_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Recorder]:
    """moto in-process with dummy credentials, a bucket, and every session the commands open recording."""
    import boto3
    from moto import mock_aws

    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("SENTIMENT_APP_AWS_POLL_SECONDS", "0")
    monkeypatch.setenv("SENTIMENT_APP_SAGEMAKER_ROLE", ROLE)
    monkeypatch.setenv("SENTIMENT_APP_BUCKET", BUCKET)
    monkeypatch.setenv("SENTIMENT_APP_HOME", str(tmp_path / "home"))
    recorder = Recorder()

    class RecordingSession(boto3.Session):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.events.register("provide-client-params.sagemaker", recorder.record)
            self.events.register("provide-client-params.sagemaker-runtime", recorder.record)
            self.events.register("provide-client-params.application-autoscaling", recorder.record)
            self.events.register("before-call.sagemaker", recorder.answer_scripted)
            self.events.register("after-call.sagemaker", recorder.run_container)

    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        monkeypatch.setattr(boto3, "Session", RecordingSession)
        yield recorder
