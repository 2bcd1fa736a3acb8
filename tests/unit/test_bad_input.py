"""The bad-input catalogue (``tests.bad_input.CATALOGUE``) at the entry point that needs no
server: the batch transform, each row as the middle line of a three-line file; and
``sentiment-app batch-transform`` on bad files. The HTTP and CLI entry points, and what each one
answers: ``tests/system/test_bad_input.py``."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from sentiment_app.inference.batch_transform import transform_file
from sentiment_app.inference.model import SentimentModel
from tests.bad_input import CATALOGUE, Case, ENTRY_POINTS, SCORED, applies, catalogue_table
from tests.serving_support import batch_cli
from tests.support import NEGATIVE, POSITIVE


@pytest.mark.parametrize("case, entry", catalogue_table("batch"))
def test_catalogue(case: Case, entry: str, model: SentimentModel, tmp_path: Path) -> None:
    """A line's record is ``{"error": reason, "line": 2}`` or a verdict, and the lines around it are scored."""
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


def test_catalogue_covers_every_entry_point() -> None:
    """Every row has an answer at the three HTTP entry points, and every entry point sees every kind of row."""
    for entry in ENTRY_POINTS:
        rows = [case for case in CATALOGUE if applies(case, entry)]
        assert any(case.message for case in rows) and any(not case.message for case in rows), entry
    assert all(case.message or case.server == case.runtime == case.gateway == 200 for case in CATALOGUE)


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
