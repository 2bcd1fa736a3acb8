"""The bad-input catalogue at every entry point, as one table (``tests.bad_input.CATALOGUE``):
each row is sent to each entry point and must get that entry point's defined answer. Everything runs
for real: one ``sentiment-app serve`` process tree (gateway + endpoint server) on loopback, the CLI
through click's runner (in-process: starting the CLI costs seconds on a busy machine). The batch
transform's rows need no server: ``tests/unit/test_bad_input.py``.

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
  128 KB argument limit) do not apply. ``sentiment-app batch-transform`` on bad files: below and in
  the unit layer.

``NA`` in the table means the row does not apply to that entry point.
"""

from __future__ import annotations

import html
import json
import re
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from sentiment_app.cli import main
from sentiment_app.data.dataset import load_imdb, stratified_sample
from sentiment_app.features import text
from tests.bad_input import Case, TEXT, catalogue_table, words_100k
from tests.serving_support import ServedApp, batch_cli

ENDPOINT = "local-sentiment"  # the name `serve` gives its endpoint


def post(url: str, case: Case) -> httpx.Response:
    headers = {"Content-Type": case.content_type} if case.content_type else {}
    return httpx.post(url, content=case.body, headers=headers, timeout=60)


def assert_message(message: object, case: Case) -> None:
    assert isinstance(message, str) and re.search(case.message, message, re.IGNORECASE), message
    assert "Traceback" not in message


VERDICT = {"label", "probability", "model_version"}


def assert_verdict(reply: httpx.Response, started: float, keys: set[str] = VERDICT) -> None:
    """A verdict and nothing else: the review is never echoed, so nothing in it can run in a page."""
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "application/json"
    answer = reply.json()
    assert set(answer) == keys
    assert answer["label"] in ("positive", "negative") and 0 <= answer["probability"] <= 1
    assert "<" not in reply.text
    assert time.monotonic() - started < 20  # answered, not timed out: the model reads only the first 500 words


@pytest.mark.parametrize("case, entry", catalogue_table("server", "runtime", "gateway", "cli"))
def test_catalogue(case: Case, entry: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    {"server": check_server, "runtime": check_runtime, "gateway": check_gateway,
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
    if case.gateway == 200:  # the function adds the id that feedback names the answer by
        return assert_verdict(reply, started, VERDICT | {"inference_id"})
    assert_json_error(reply, case.gateway, "message", case)


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
    tokenize(words_100k().decode()[:20_000])
    assert 0 < len(tokenize._cache) <= 100
