"""Faults with real processes on loopback: a killed endpoint, a killed batch transform, a full disk or
unwritable store, and SIGTERM with requests in flight. (An interrupted training job resuming from
its checkpoint is ``tests/system/test_pipeline.py::test_interrupted_job_resumes_to_the_same_weights``.)"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import pytest
from click.testing import CliRunner

from sentiment_app.cli import main
from sentiment_app.data.dataset import load_imdb
from sentiment_app.gateway.api.local_stack import start_endpoint, stop_process, wait_until_ready
from sentiment_app.inference.batch_transform import sidecars
from sentiment_app.artifacts.locate import bundled_model_dir
from sentiment_app.serving.lifecycle import free_port
from sentiment_app.serving.options import ServerOptions
from tests.serving_support import in_flight, served_app
from tests.support import CLI, wait_for

ONE_THREAD = {**os.environ, "OMP_NUM_THREADS": "1"}  # the CLI runs leave the other cores to the rest
LINES = 2000
BROKEN = {1900: b"", 1950: b"caf\xe9 \xff not UTF-8"}  # 1-based line numbers, after the kill point


@pytest.fixture(scope="module")
def reviews(real_data: Path) -> list[str]:
    """Real test-set reviews, one line each."""
    return [" ".join(text.split()) for text in load_imdb(real_data)["test"].texts[:LINES]]


def cli(*args: str, env: dict[str, str] = ONE_THREAD, **kwargs) -> subprocess.Popen[str]:
    return subprocess.Popen([CLI, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


# -- a) the endpoint killed under load ------------------------------------------------------------

def test_killed_endpoint_gives_clear_5xx_and_the_gateway_recovers_by_itself(tmp_path: Path, reviews) -> None:
    with served_app(tmp_path) as app:
        [endpoint] = [p for p in psutil.Process(app.process.pid).children()
                      if "sentiment_app.cli.endpoint_server" in p.cmdline()]
        api = f"{app.url}/api/sentiment"
        stop, killed = threading.Event(), threading.Event()
        results: list[tuple[int, dict, float, bool]] = []  # status, body, seconds, ended after the kill

        def client(i: int) -> None:
            with httpx.Client(timeout=20) as http:  # a hang would raise here and fail the test
                while not stop.is_set():
                    started = time.monotonic()
                    reply = http.post(api, json={"review": reviews[i % LINES]})
                    results.append((reply.status_code, reply.json(), time.monotonic() - started, killed.is_set()))
                    i += 8

        with ThreadPoolExecutor(8) as pool:
            clients = [pool.submit(client, i) for i in range(8)]
            try:
                wait_for(lambda: sum(r[0] == 200 for r in results) >= 8, 60, "answers before the kill")
                endpoint.kill()  # SIGKILL, requests in flight; `serve` (its parent) reaps it only at exit
                wait_for(lambda: endpoint.status() == psutil.STATUS_ZOMBIE, 10, "the endpoint to die")
                killed.set()
                wait_for(lambda: sum(r[3] for r in results) >= 16, 60, "answers after the kill")
            finally:
                stop.set()
            for future in clients:
                future.result()

        after = [r for r in results if r[3]]
        assert {status for status, *_ in results} <= {200, 502, 503}, results
        assert all(status in (502, 503) for status, *_ in after[8:])  # surely sent after the kill
        for status, body, seconds, _ in results:
            assert seconds < 15
            if status != 200:
                assert set(body) == {"message"} and ("unavailable" in body["message"] or "reached" in body["message"])
        down = httpx.post(api, json={"review": reviews[0]})
        assert down.status_code == 503 and down.json() == {"message": "The sentiment model cannot be reached; try again later."}
        assert httpx.get(f"{app.url}/ready").status_code == 503

        # The endpoint comes back on the same port; the gateway, never restarted, answers again.
        revived = start_endpoint(bundled_model_dir(), ServerOptions(port=app.endpoint_port, name="local-sentiment"))
        try:
            wait_until_ready(f"http://127.0.0.1:{app.endpoint_port}/ping", revived, timeout_s=60)
            assert httpx.get(f"{app.url}/ready").status_code == 200
            again = httpx.post(api, json={"review": reviews[0]}, timeout=20)
            assert again.status_code == 200 and again.json()["label"] in ("positive", "negative")
            metrics = httpx.get(f"{app.url}/metrics").text
            assert 'http_request_errors_total{kind="server",method="POST",route="/api/sentiment"}' in metrics
        finally:
            stop_process(revived)
        assert app.process.poll() is None  # the gateway lived through it all


# -- c) a killed batch transform resumes ---------------------------------------------------------

def test_killed_batch_transform_resumes_without_losing_or_duplicating_lines(tmp_path: Path, reviews) -> None:
    # The first 50 words of each review: real text, but a run short enough for a test.
    lines = [BROKEN.get(n, " ".join(text.split()[:50]).encode()) for n, text in enumerate(reviews, start=1)]
    source = tmp_path / "reviews.txt"
    source.write_bytes(b"\n".join(lines) + b"\n")
    output, reference = tmp_path / "reviews.txt.out", tmp_path / "reference.out"
    partial, progress = sidecars(output)
    model = ["--model", str(bundled_model_dir()), "--home", str(tmp_path / "home")]

    uninterrupted = cli("batch-transform", str(source), "--output", str(reference), *model)
    victim = cli("batch-transform", str(source), *model)

    def halfway() -> bool:
        assert victim.poll() is None, victim.communicate()
        return progress.exists() and json.loads(progress.read_text())["lines"] >= 512

    wait_for(halfway, 120, "the first chunks")
    victim.send_signal(signal.SIGKILL)
    victim.communicate()
    saved = json.loads(progress.read_text())
    assert not output.exists() and partial.stat().st_size >= saved["written"]
    assert 512 <= saved["lines"] < LINES

    resumed = cli("batch-transform", str(source), *model)
    out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    assert f"Resuming {output} at line {saved['lines'] + 1}" in err
    assert f"{LINES} lines, {len(BROKEN)} errors" in out
    assert uninterrupted.wait(120) == 0, uninterrupted.communicate()

    got, want = output.read_bytes().splitlines(), reference.read_bytes().splitlines()
    assert len(got) == LINES and got == want
    for number in BROKEN:
        assert json.loads(got[number - 1])["line"] == number
    assert not partial.exists() and not progress.exists()


# -- d) a full disk, an unwritable store ---------------------------------------------------------

def file_size_limit(limit: int) -> Callable[[], None]:
    """For ``preexec_fn``: writes past ``limit`` bytes fail with EFBIG, as on a full disk (Python ignores SIGXFSZ)."""
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def assert_clear_failure(process: subprocess.Popen[str], *reasons: str) -> None:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 1, err
    assert "error: Cannot write" in err and "no partial file was left behind" in err
    assert any(reason in err for reason in reasons), err
    assert "Traceback" not in err


def test_full_disk_during_batch_transform(tmp_path: Path, reviews) -> None:
    source = tmp_path / "reviews.txt"
    source.write_text("\n".join(reviews[:600]) + "\n")  # ~45 KB of output; the disk holds 20 KB
    process = cli("batch-transform", str(source), "--model", str(bundled_model_dir()), "--home", str(tmp_path / "home"),
                  preexec_fn=file_size_limit(20_000))
    assert_clear_failure(process, "File too large")
    assert files_under(tmp_path) == [source]


def test_full_disk_during_prepare(tmp_path: Path, real_data: Path) -> None:
    home, scratch = tmp_path / "home", tmp_path / "tmp"
    scratch.mkdir()
    process = cli("prepare", "--home", str(home), "--data", str(real_data), "--max-reviews", "200",
                  preexec_fn=file_size_limit(64_000), env={**ONE_THREAD, "TMPDIR": str(scratch)})
    assert_clear_failure(process, "File too large")
    assert files_under(home) == [] and files_under(scratch) == []


@pytest.fixture(params=["under-a-file", "read-only-folder"])
def unwritable(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """A folder nothing can be written in. Root ignores permissions, so the read-only case needs a
    normal user; a path under a regular file fails for everyone."""
    if request.param == "under-a-file":
        blocker = tmp_path / "blocker"
        blocker.write_text("a file, not a folder")
        yield blocker / "home"
        return
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders; the under-a-file case covers root")
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        yield folder / "home"
    finally:
        folder.chmod(0o700)


def test_unwritable_store_for_prepare_and_batch_output(unwritable: Path, tmp_path: Path, real_data: Path,
                                                        reviews) -> None:
    runner = CliRunner()
    prepared = runner.invoke(main, ["prepare", "--home", str(unwritable), "--data", str(real_data),
                                    "--max-reviews", "40"])
    assert prepared.exit_code == 1 and "error: Cannot write" in prepared.output, prepared.output
    assert str(unwritable) in prepared.output and "Traceback" not in prepared.output

    source = tmp_path / "reviews.txt"
    source.write_text("\n".join(reviews[:20]) + "\n")
    scored = runner.invoke(main, ["batch-transform", str(source), "--output", str(unwritable / "reviews.out"),
                                  "--model", str(bundled_model_dir()), "--home", str(tmp_path / "home")])
    assert scored.exit_code == 1 and f"error: Cannot write {unwritable}" in scored.output, scored.output
    assert not unwritable.exists()


# -- e) graceful shutdown ------------------------------------------------------------------------

def test_sigterm_finishes_requests_in_flight_refuses_new_ones_and_exits_0(tmp_path: Path, reviews) -> None:
    port = free_port("127.0.0.1")
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log_file:
        server = subprocess.Popen([sys.executable, "-m", "sentiment_app.cli.endpoint_server", "--port", str(port),
                                   "--model", str(bundled_model_dir("lstm-seed"))],  # the LSTM: slow enough to watch
                                  stdout=log_file, stderr=subprocess.STDOUT)
    try:
        wait_until_ready(f"{url}/ping", server, timeout_s=120)
        slow_batches = [{"instances": reviews[i * 250:(i + 1) * 250]} for i in range(4)]

        def post(i: int) -> httpx.Response:
            return httpx.post(f"{url}/invocations", json=slow_batches[i], headers={"x-request-id": f"in-flight-{i}"},
                              timeout=120)

        with ThreadPoolExecutor(4) as pool:
            replies = [pool.submit(post, i) for i in range(4)]
            wait_for(lambda: in_flight(url) >= 5, 30, "four requests in flight")  # four, and the scrape
            server.send_signal(signal.SIGTERM)

            def refused() -> bool:
                try:
                    httpx.get(f"{url}/ping", timeout=2)
                except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError):
                    # Refused, or accepted by the kernel just before the socket closed and then
                    # closed (or reset) unanswered: either way the new request is not served.
                    return True
                return False

            wait_for(refused, 10, "new connections to be refused")
            assert not all(reply.done() for reply in replies), "the batches finished before the test could see"
            answers = [reply.result(120) for reply in replies]
        assert [a.status_code for a in answers] == [200] * 4
        assert [len(a.json()["predictions"]) for a in answers] == [250] * 4
        assert server.wait(60) == 0
    finally:
        stop_process(server)
    log = log_path.read_text()
    requests = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert sorted((r["request_id"], r["status"]) for r in requests if r["path"] == "/invocations") == [
        (f"in-flight-{i}", 200) for i in range(4)]
    assert "Finished server process" in log
