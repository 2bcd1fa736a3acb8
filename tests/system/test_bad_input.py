"""The bad-input catalogue (issue 6) at every entry point, as one table: each row is sent to each entry
point and must get that entry point's defined answer. Everything runs for real: one ``sentiment-app
serve`` process tree (gateway + endpoint server) on loopback, the batch transform on real files, the
CLI through click's runner (in-process: starting the CLI costs seconds on a busy machine).

How each entry point answers bad input:

- ``server``: the model container's ``POST /invocations`` → the status and ``{"error": message}``.
- ``runtime``: ``POST /endpoints/{name}/invocations``, as SageMaker Runtime answers: a container refusal
  becomes 424 with ``x-amzn-ErrorType: ModelError`` and the container's status and message inside; a
  body over 6 MB is refused before the container with 400 ``ValidationError``.
- ``gateway``: ``POST /api/sentiment`` (API Gateway → Lambda → runtime) → the status and
  ``{"message": message}``. No content type, or any ``text/*``, means the body is the review itself.
- ``batch``: the row as the middle line of a three-line file: that line's record is
  ``{"error": reason, "line": 2}`` or a verdict, and the lines around it are scored. A file has no
  content type and its lines are raw review text, so JSON-looking lines are reviews and are scored.
- ``cli``: ``sentiment-app aws invoke ENDPOINT TEXT`` (``AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME`` pointing at
  the local endpoint): exit 0 and the answer, exit 1 and one ``error:`` line naming the problem, or
  exit 2 for an option value it does not offer. Rows that cannot be an argument (NUL, over the OS's
  128 KB argument limit) do not apply. ``sentiment-app batch-transform`` on bad files is tested below.

``NA`` in the table means the row does not apply to that entry point.
"""

from __future__ import annotations

import html
import json
import random
import re
import string
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from sentiment_app.cli import main
from sentiment_app.data.dataset import load_imdb, stratified_sample
from sentiment_app.features import text
from sentiment_app.inference.batch_transform import transform_file
from sentiment_app.inference.model import SentimentModel
from sentiment_app.artifacts.locate import bundled_model_dir
from sentiment_app.inference.handler import MAX_INVOKE_BYTES
from tests.support import NEGATIVE, POSITIVE, ServedApp, served_app

TEXT, JSON, XML, BINARY = "text/plain", "application/json", "application/xml", "application/octet-stream"
ENDPOINT = "local-sentiment"  # the name `serve` gives its endpoint
SCORED = ""  # a batch line that gets a verdict
OVER_6_MB = b"great " * (MAX_INVOKE_BYTES // 6 + 100_000)  # about 6.6 MB: over the endpoint's and Lambda's limit
OVER_10_MB = b"great " * (10 * 2**20 // 6 + 100_000)  # over the gateway's own limit too
NESTED = b"[" * 50_000 + b"]" * 50_000  # deeper than Python's JSON parser can go
WORDS_100K = " ".join(  # made-up words: each one new to the stemmer, the slowest kind of long review
    "".join(random.Random(i).choices(string.ascii_lowercase, k=4 + i % 7)) for i in range(100_000)).encode()
RTL_AND_EMOJI = "😀🎬 סרט נפלא, אהבתי! فيلم رائع جدا 👍🏽 A wonderful film".encode()
HTML = b'<script>alert("x")</script><img src=x onerror=alert(1)><b>A wonderful</b> film, <i>loved</i> it'


@dataclass(frozen=True)
class Case:
    name: str
    body: bytes
    content_type: str | None
    server: int  # status at /invocations
    runtime: int  # status at /endpoints/{name}/invocations
    gateway: int  # status at /api/sentiment
    message: str  # what every error message says (a case-insensitive regex); "" for a verdict
    batch: str | None  # the batch line's error (regex), SCORED, or None: not applicable
    cli: int | None  # exit status of `aws invoke`, or None: not applicable


HTML_JSON = json.dumps({"review": HTML.decode()}).encode()
NA = None  # the row does not apply to this entry point

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
    Case("100,000 words",        WORDS_100K,                   TEXT,   200, 200, 200, "",             SCORED,         NA),
    Case("emoji and RTL",        RTL_AND_EMOJI,                TEXT,   200, 200, 200, "",             SCORED,         0),
    Case("HTML and script tags", HTML,                         TEXT,   200, 200, 200, "",             SCORED,         0),
    Case("HTML in JSON",         HTML_JSON,                    JSON,   200, 200, 200, "",             NA,             0),
]
ENTRY_POINTS = ("server", "runtime", "gateway", "batch", "cli")


def applies(case: Case, entry: str) -> bool:
    return {"batch": case.batch is not None, "cli": case.cli is not None}.get(entry, True)


TABLE = [pytest.param(case, entry, id=re.sub(r"[^a-z0-9]+", "-", f"{case.name} {entry}".lower()))
         for case in CATALOGUE for entry in ENTRY_POINTS if applies(case, entry)]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    with served_app(tmp_path_factory.mktemp("home")) as served:
        yield served


@pytest.fixture(scope="module")
def model() -> SentimentModel:
    return SentimentModel.load(bundled_model_dir())


def post(url: str, case: Case) -> httpx.Response:
    headers = {"Content-Type": case.content_type} if case.content_type else {}
    return httpx.post(url, content=case.body, headers=headers, timeout=60)


def assert_message(message: object, case: Case) -> None:
    assert isinstance(message, str) and re.search(case.message, message, re.IGNORECASE), message
    assert "Traceback" not in message


def assert_verdict(reply: httpx.Response, started: float) -> None:
    """A verdict and nothing else: the review is never echoed, so nothing in it can run in a page."""
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "application/json"
    answer = reply.json()
    assert set(answer) == {"label", "probability", "model_version"}
    assert answer["label"] in ("positive", "negative") and 0 <= answer["probability"] <= 1
    assert "<" not in reply.text
    assert time.monotonic() - started < 20  # answered, not timed out: the model reads only the first 500 words


@pytest.mark.parametrize("case, entry", TABLE)
def test_catalogue(case: Case, entry: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    {"server": check_server, "runtime": check_runtime, "gateway": check_gateway, "batch": check_batch,
     "cli": check_cli}[entry](case, request, tmp_path)


def assert_json_error(reply: httpx.Response, status: int, key: str, case: Case) -> None:
    """A JSON body holding only ``key``: the error format of the model server ("error") or of
    API Gateway ("message")."""
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"] == "application/json"
    assert set(reply.json()) == {key}
    assert_message(reply.json()[key], case)


def check_server(case: Case, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    app: ServedApp = request.getfixturevalue("app")
    started = time.monotonic()
    reply = post(f"http://127.0.0.1:{app.endpoint_port}/invocations", case)
    if case.server == 200:
        return assert_verdict(reply, started)
    assert_json_error(reply, case.server, "error", case)


def check_runtime(case: Case, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    app: ServedApp = request.getfixturevalue("app")
    started = time.monotonic()
    reply = post(f"http://127.0.0.1:{app.endpoint_port}/endpoints/{ENDPOINT}/invocations", case)
    if case.runtime == 200:
        assert reply.headers["x-amzn-invoked-production-variant"] == "AllTraffic"
        return assert_verdict(reply, started)
    assert reply.status_code == case.runtime, reply.text
    body = reply.json()
    if case.runtime == 424:  # the container's answer, wrapped
        assert reply.headers["x-amzn-errortype"] == "ModelError"
        assert body["OriginalStatusCode"] == case.server
        assert body["Message"].startswith(f"Received client error ({case.server}) from primary with message")
        assert_message(json.loads(body["OriginalMessage"])["error"], case)
    else:
        assert reply.headers["x-amzn-errortype"] == "ValidationError"
        assert_message(body["message"], case)


def check_gateway(case: Case, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    app: ServedApp = request.getfixturevalue("app")
    started = time.monotonic()
    reply = post(f"{app.url}/api/sentiment", case)
    assert reply.headers["access-control-allow-origin"] == "*"  # a browser may read errors too
    if case.gateway == 200:
        return assert_verdict(reply, started)
    assert_json_error(reply, case.gateway, "message", case)


def check_batch(case: Case, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    model: SentimentModel = request.getfixturevalue("model")
    line = case.body.replace(b"\n", b" ").replace(b"\r", b" ")
    source = tmp_path / "reviews.txt"
    source.write_bytes(b"\n".join([POSITIVE.encode(), line, NEGATIVE.encode()]) + b"\n")
    started = time.process_time()
    errors = transform_file(model, source, tmp_path / "out.jsonl")
    assert time.process_time() - started < 5  # CPU seconds, whatever else the machine runs
    out = [json.loads(row) for row in (tmp_path / "out.jsonl").read_text("utf-8").splitlines()]
    assert len(out) == 3 and errors == (case.batch != SCORED)
    expected = model.predict_proba([POSITIVE, NEGATIVE]).tolist()
    assert [out[0]["probability"], out[2]["probability"]] == pytest.approx(expected, abs=1e-6)
    if case.batch == SCORED:
        assert out[1]["probability"] == pytest.approx(float(model.predict_proba([line.decode()])[0]), abs=1e-6)
    else:
        assert out[1]["line"] == 2 and set(out[1]) == {"error", "line"}
        assert re.search(case.batch, out[1]["error"], re.IGNORECASE), out[1]


def check_cli(case: Case, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    app: ServedApp = request.getfixturevalue("app")
    monkeypatch: pytest.MonkeyPatch = request.getfixturevalue("monkeypatch")
    for name, value in {"AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": f"http://127.0.0.1:{app.endpoint_port}",
                        "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}.items():
        monkeypatch.setenv(name, value)
    text = case.body.decode("utf-8", "surrogateescape")  # how Python hands undecodable argv bytes over
    done = CliRunner().invoke(main, ["aws", "invoke", ENDPOINT, text, "--region", "us-east-1",
                                        "--content-type", case.content_type or TEXT])
    assert done.exit_code == case.cli, done.output
    assert "Traceback" not in done.output
    if case.cli == 0:
        answer = json.loads(done.stdout)
        assert set(answer) == {"label", "probability", "model_version"} and "<" not in done.stdout
    elif case.cli == 1:
        line, = done.stderr.splitlines()
        assert line.startswith("error: AWS InvokeEndpoint: ModelError: Received client error (400)")
        assert re.search(case.message, line, re.IGNORECASE), line
    else:
        assert "Invalid value for '--content-type'" in done.stderr


def test_catalogue_covers_every_entry_point() -> None:
    """Every row has an answer at the three HTTP entry points, and every entry point sees every kind of row."""
    for entry in ENTRY_POINTS:
        rows = [case for case in CATALOGUE if applies(case, entry)]
        assert any(case.message for case in rows) and any(not case.message for case in rows), entry
    assert all(case.message or case.server == case.runtime == case.gateway == 200 for case in CATALOGUE)


def batch_cli(home: Path, source: Path, *options: str) -> tuple[int, str, str]:
    done = CliRunner().invoke(main, ["batch-transform", str(source), "--home", str(home), *options])
    return done.exit_code, done.stdout, done.stderr


def test_batch_transform_cli_reports_each_broken_line_and_scores_the_rest(tmp_path: Path) -> None:
    """A file of every catalogue line that fits a file, good reviews between them: exit 0, a summary
    counting the errors, and each broken line reported at its own line number."""
    rows = [case for case in CATALOGUE if case.batch is not None]
    lines = [POSITIVE.encode()]
    for case in rows:
        lines += [case.body.replace(b"\n", b" ").replace(b"\r", b" "), NEGATIVE.encode()]
    source = tmp_path / "reviews.txt"
    source.write_bytes(b"\n".join(lines) + b"\n")
    broken = sum(case.batch != SCORED for case in rows)
    code, stdout, _ = batch_cli(tmp_path / "home", source)
    assert code == 0 and f"{len(lines)} lines, {broken} errors" in stdout
    out = [json.loads(row) for row in Path(f"{source}.out").read_text("utf-8").splitlines()]
    assert len(out) == len(lines)
    for i, case in enumerate(rows):
        record = out[2 * i + 1]
        assert ("error" in record) == (case.batch != SCORED), (case.name, record)
        assert record.get("line", 2 * i + 2) == 2 * i + 2
    assert all(out[i]["label"] == "negative" for i in range(2, len(out), 2))


@pytest.mark.parametrize("make, code, words", [
    (lambda tmp: tmp / "missing.txt", 1, "neither a local file nor a key in the store"),
    (lambda tmp: tmp, 2, "a folder or prefix INPUT needs --output FOLDER/"),  # a folder is a prefix of files
    (lambda tmp: (tmp / "empty.txt", (tmp / "empty.txt").write_bytes(b""))[0], 0, "0 lines, 0 errors"),
], ids=["missing file", "a folder", "empty file"])
def test_batch_transform_cli_on_files_that_are_not_reviews(tmp_path: Path, make, code: int, words: str) -> None:
    exit_code, stdout, stderr = batch_cli(tmp_path / "home", make(tmp_path))
    assert exit_code == code, stdout + stderr
    assert words in (stdout if code == 0 else stderr)
    if code:
        assert stderr.startswith("error: " if code == 1 else "Usage: ") and "Traceback" not in stderr


def test_batch_transform_cli_on_a_binary_file(tmp_path: Path, real_data: Path) -> None:
    """The gzipped IMDB test split given as reviews: the job ends, one record per line, and the lines
    that are not text (nearly all) are reported at their line numbers and counted in the summary."""
    source = tmp_path / "test.csv.gz"
    source.write_bytes((real_data / "test.csv.gz").read_bytes()[:200_000])
    code, stdout, _ = batch_cli(tmp_path / "home", source)
    out = [json.loads(row) for row in Path(f"{source}.out").read_text("utf-8").splitlines()]
    errors = [(i, record) for i, record in enumerate(out, 1) if "error" in record]
    assert code == 0 and f"{len(out)} lines, {len(errors)} errors" in stdout
    assert len(out) == source.read_bytes().count(b"\n") + 1  # the last line has no newline
    assert len(errors) > 0.9 * len(out) and all(record["line"] == i for i, record in errors)


def test_the_long_review_shortcuts_change_no_features(real_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tag stripper's fast path and the tokenizer's word limit give exactly what the full work gives,
    on real reviews and on reviews made to be slow; the stem cache stays bounded."""
    reviews = stratified_sample(load_imdb(real_data)["test"], 200, seed=6).texts
    tricky = ["<" * 5000 + "great film", "a <b>bold</b> <claim & <i>more", "x > y < z", "<<>>", "&lt;b&gt;", ""]
    tokenize = text.Tokenizer()
    for review in [*reviews, *tricky]:
        assert text.strip_html(review) == html.unescape(text._TAG.sub("", review))
        assert tokenize(review, limit=50) == tokenize(review)[:50]
    monkeypatch.setattr(text, "MAX_CACHED_WORDS", 100)
    tokenize(WORDS_100K.decode()[:20_000])
    assert 0 < len(tokenize._cache) <= 100
