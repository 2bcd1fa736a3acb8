"""Batch transform with the bundled LSTM (it reads raw reviews and rows of word ids): one output line per
input line, in order, errors in place, atomic output."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from sentiment_app.artifacts.locate import bundled_model_dir
from sentiment_app.cli import main
from sentiment_app.inference.batch_transform import transform_file
from sentiment_app.inference.model import SentimentModel
from tests.support import read_json_lines, write_lines

REVIEWS = [
    "A wonderful, moving film with a brilliant cast. I loved every minute of it.",
    "Terrible. Boring plot, awful acting, a complete waste of time.",
    "The simplest pleasures in life are the best, and this film is one of them.",
    "I walked out after twenty minutes; the worst movie I have seen this year.",
    "Not bad at all<br /><br />the music was great and the ending surprised me.",
]


def csv_lines(model: SentimentModel, with_label: bool) -> list[bytes]:
    rows = model.encode(REVIEWS)
    labels = [[i % 2] for i in range(len(rows))]
    table = np.column_stack([labels, rows]) if with_label else rows
    return [",".join(map(str, row)).encode() for row in table.tolist()]


def test_raw_lines_keep_order_and_match_direct_prediction(lstm_model, tmp_path):
    source = write_lines(tmp_path / "reviews.txt", [r.encode() for r in REVIEWS])
    assert transform_file(lstm_model, source, batch_size=2) == 0  # batches of 2 cut 5 lines unevenly
    out = read_json_lines(tmp_path / "reviews.txt.out")
    expected = lstm_model.predict_proba(REVIEWS)
    assert [o["probability"] for o in out] == pytest.approx(expected.tolist(), abs=1e-6)
    assert [o["label"] for o in out] == ["positive" if p >= 0.5 else "negative" for p in expected]


def test_broken_lines_are_reported_in_place_and_the_rest_scored(lstm_model, tmp_path):
    lines = [REVIEWS[0].encode(), b"", REVIEWS[1].encode(), b"caf\xe9 \xff bad bytes", b"   ", REVIEWS[2].encode()]
    source = write_lines(tmp_path / "mixed.txt", lines, end=b"\r\n")
    assert transform_file(lstm_model, source, tmp_path / "result.jsonl", batch_size=4) == 3
    out = read_json_lines(tmp_path / "result.jsonl")
    assert len(out) == len(lines)
    assert out[1] == {"error": "empty line", "line": 2}
    assert out[3]["line"] == 4 and "UTF-8" in out[3]["error"]
    assert out[4] == {"error": "empty line", "line": 5}
    scored = [out[i]["probability"] for i in (0, 2, 5)]
    assert scored == pytest.approx(lstm_model.predict_proba([REVIEWS[0], REVIEWS[1], REVIEWS[2]]).tolist(), abs=1e-6)


def test_last_line_without_newline_is_scored(lstm_model, tmp_path):
    source = tmp_path / "two.txt"
    source.write_bytes(REVIEWS[0].encode() + b"\n" + REVIEWS[1].encode())
    transform_file(lstm_model, source)
    assert len(read_json_lines(tmp_path / "two.txt.out")) == 2


@pytest.mark.parametrize("with_label", [True, False])
def test_processed_csv_rows_are_scored_as_rows(lstm_model, tmp_path, with_label):
    lines = csv_lines(lstm_model, with_label)
    source = write_lines(tmp_path / "test.csv", lines)
    assert transform_file(lstm_model, source) == 0
    out = read_json_lines(tmp_path / "test.csv.out")
    expected = lstm_model.predict_rows(lstm_model.encode(REVIEWS))
    assert [o["probability"] for o in out] == pytest.approx(expected.tolist(), abs=1e-6)


def test_csv_line_with_wrong_field_count_is_an_error(lstm_model, tmp_path):
    lines = csv_lines(lstm_model, with_label=True)
    lines[2] = lines[2].rsplit(b",", 3)[0]  # three fields short
    lines.insert(4, b"a review among the numbers")
    source = write_lines(tmp_path / "test.csv", lines)
    assert transform_file(lstm_model, source) == 2
    out = read_json_lines(tmp_path / "test.csv.out")
    assert len(out) == 6
    assert out[2]["line"] == 3 and "502" in out[2]["error"] and "499" in out[2]["error"]
    assert out[4]["line"] == 5
    assert all("probability" in out[i] for i in (0, 1, 3, 5))


@pytest.mark.parametrize("column, value, message", [(1, "501", "pad length"), (7, "999999", "dictionary"),
                                                    (9, "x", "integer")])
def test_csv_rows_the_model_cannot_read_are_errors(lstm_model, tmp_path, column, value, message):
    lines = csv_lines(lstm_model, with_label=True)
    fields = lines[1].split(b",")
    fields[column] = value.encode()
    lines[1] = b",".join(fields)
    source = write_lines(tmp_path / "test.csv", lines)
    assert transform_file(lstm_model, source) == 1
    out = read_json_lines(tmp_path / "test.csv.out")
    assert out[1]["line"] == 2 and message in out[1]["error"]
    assert all("probability" in o for i, o in enumerate(out) if i != 1)


def test_text_plain_accept_gives_bare_labels(lstm_model, tmp_path):
    source = write_lines(tmp_path / "reviews.txt", [r.encode() for r in REVIEWS] + [b""])
    assert transform_file(lstm_model, source, accept="text/plain") == 1
    lines = (tmp_path / "reviews.txt.out").read_text().splitlines()
    expected = ["1.0" if p >= 0.5 else "0.0" for p in lstm_model.predict_proba(REVIEWS)]
    assert lines[:5] == expected
    assert json.loads(lines[5]) == {"error": "empty line", "line": 6}


def test_failure_midway_leaves_no_partial_output(lstm_model, tmp_path, monkeypatch):
    source = write_lines(tmp_path / "reviews.txt", [r.encode() for r in REVIEWS])
    output = tmp_path / "reviews.txt.out"
    output.write_text("previous run\n")
    calls = []

    def failing(texts):
        calls.append(len(texts))
        if len(calls) == 2:
            raise RuntimeError("model crashed")
        return np.full(len(texts), 0.9, dtype=np.float32)

    monkeypatch.setattr(lstm_model, "predict_proba", failing)
    with pytest.raises(RuntimeError, match="model crashed"):
        transform_file(lstm_model, source, batch_size=2)
    assert output.read_text() == "previous run\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reviews.txt", "reviews.txt.out"]


def test_cli_command_writes_output_and_summary(tmp_path):
    source = write_lines(tmp_path / "reviews.txt", [REVIEWS[0].encode(), b"", REVIEWS[1].encode()])
    result = CliRunner().invoke(main, ["batch-transform", "--input", str(source), "--home", str(tmp_path / "home"),
                                       "--accept", "text/plain", "--output", str(tmp_path / "out.txt")])
    assert result.exit_code == 0, result.output
    assert "3 lines, 1 errors" in result.output and str(tmp_path / "out.txt") in result.output
    assert len((tmp_path / "out.txt").read_text().splitlines()) == 3


def test_cli_command_with_explicit_model_and_default_output(tmp_path):
    source = write_lines(tmp_path / "reviews.txt", [r.encode() for r in REVIEWS])
    result = CliRunner().invoke(main, ["batch-transform", "--input", str(source), "--model", str(bundled_model_dir()),
                                       "--home", str(tmp_path / "home")])
    assert result.exit_code == 0, result.output
    assert len(read_json_lines(tmp_path / "reviews.txt.out")) == len(REVIEWS)


def test_cli_command_transforms_a_folder_into_an_output_folder(tmp_path):
    inputs = tmp_path / "in"
    (inputs / "part").mkdir(parents=True)
    write_lines(inputs / "a.txt", [REVIEWS[0].encode()])
    write_lines(inputs / "part" / "b.txt", [REVIEWS[1].encode(), b""])
    result = CliRunner().invoke(main, ["batch-transform", str(inputs), "--output", f"{tmp_path / 'out'}/",
                                       "--home", str(tmp_path / "home")])
    assert result.exit_code == 0, result.output
    assert "2 files, 1 errors" in result.output
    outputs = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert outputs == ["a.txt.out", "part/b.txt.out"]
    assert len(read_json_lines(tmp_path / "out" / "part" / "b.txt.out")) == 2
    assert sorted(p.name for p in inputs.rglob("*")) == ["a.txt", "b.txt", "part"]  # nothing written beside the inputs


def test_an_output_folder_inside_the_input_folder_is_not_read_as_input(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    write_lines(inputs / "a.txt", [REVIEWS[0].encode()])
    for _ in range(2):  # the second run must not score the first run's outputs
        result = CliRunner().invoke(main, ["batch-transform", str(inputs), "--output", str(inputs / "out") + "/",
                                           "--home", str(tmp_path / "home")])
        assert result.exit_code == 0, result.output
        assert "1 files, 0 errors" in result.output
    assert sorted(str(p.relative_to(inputs)) for p in inputs.rglob("*") if p.is_file()) == ["a.txt", "out/a.txt.out"]
    only_outputs = CliRunner().invoke(main, ["batch-transform", str(inputs / "out"), "--output", str(inputs / "out") + "/",
                                             "--home", str(tmp_path / "home")])
    assert only_outputs.exit_code == 1 and "holds no files" in only_outputs.output


def test_cli_command_transforms_a_folder_of_the_store(tmp_path):
    store = tmp_path / "store"
    (store / "batch" / "x").mkdir(parents=True)
    write_lines(store / "batch" / "x" / "reviews.txt", [REVIEWS[0].encode()])
    result = CliRunner().invoke(main, ["batch-transform", "batch", "--store", str(store), "--output", f"{tmp_path / 'out'}/",
                                       "--home", str(tmp_path / "home")])
    assert result.exit_code == 0, result.output
    assert "1 files, 0 errors" in result.output
    assert read_json_lines(tmp_path / "out" / "x" / "reviews.txt.out")[0]["label"] == "positive"
