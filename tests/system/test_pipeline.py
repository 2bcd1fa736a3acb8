"""The real pipeline on a few thousand real reviews: artifacts, checksums, resume, accuracy."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from sentiment_app.artifacts.model_dir import load_model_dir
from sentiment_app.fileio import sha256_file
from tests.support import cli_in_home

pytestmark = pytest.mark.slow
SAMPLE = ["--max-reviews", "3000"]


def cli(home: Path, data: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "sentiment_app", *args, "--home", str(home), "--data", str(data)]
    return subprocess.run(command, capture_output=True, text=True, check=True, **kwargs)


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory, real_data: Path) -> tuple[Path, dict]:
    home = tmp_path_factory.mktemp("home")
    done = cli(home, real_data, "pipeline", *SAMPLE, "--epochs", "3", "--batch-size", "64", "--json")
    return home, json.loads(done.stdout.strip().splitlines()[-1])


def test_pipeline_learns_clearly_above_chance(pipeline_run) -> None:
    _, metrics = pipeline_run
    assert set(metrics) == {"accuracy", "precision", "recall", "f1", "roc_auc", "confusion_matrix", "short",
                            "calibration_error", "behaviour", "model_dir", "version"}
    assert metrics["accuracy"] > 0.62 and metrics["roc_auc"] > 0.68
    (tn, fp), (fn, tp) = metrics["confusion_matrix"]
    assert tn + fp + fn + tp == 3000
    assert metrics["accuracy"] == pytest.approx((tn + tp) / 3000)


def test_evaluation_scores_what_users_meet(pipeline_run) -> None:
    """The short sentences of the data folder, calibration on both, the behavioural suite, in the report."""
    home, metrics = pipeline_run
    short = metrics["short"]
    assert set(short) == {"imdb", "yelp", "amazon", "mean"} and all(0.3 < v < 1 for v in short.values())
    assert short["mean"] == pytest.approx((short["imdb"] + short["yelp"] + short["amazon"]) / 3)
    assert set(metrics["calibration_error"]) == {"imdb_test", "short"}
    assert all(0 <= v <= 0.5 for v in metrics["calibration_error"].values())
    behaviour = metrics["behaviour"]
    assert behaviour["cases"] >= 300 and set(behaviour["capabilities"]) == {
        "negation", "contrast", "intensity", "invariance", "direction"}
    report = (home / "jobs" / Path(metrics["model_dir"]).name / "evaluation" / "report.md").read_text()
    assert "reliability.png" in report and "yelp" in report and "negation" in report


def test_artifacts_manifest_and_archive(pipeline_run) -> None:
    home, metrics = pipeline_run
    model_dir = Path(metrics["model_dir"])
    manifest = json.loads((model_dir / "manifest.json").read_text())
    for name, digest in manifest["files"].items():
        assert sha256_file(model_dir / name) == digest
    artifacts = load_model_dir(model_dir)
    assert artifacts.config["model"] == "lstm-seed" and artifacts.config["pad"] == 500
    assert len(artifacts.metrics["history"]) == 3 and 2 <= min(artifacts.vocab.values())
    job_dir = home / "jobs" / model_dir.name
    with tarfile.open(job_dir / "output" / "model.tar.gz") as archive:
        names = set(archive.getnames())
    assert {"model.safetensors", "config.json", "vocab.json", "manifest.json", "code/inference.py",
            "code/requirements.txt", "code/sentiment_app/inference/handler.py"} <= names
    hyper = json.loads((job_dir / "input" / "config" / "hyperparameters.json").read_text())
    assert json.loads(hyper["epochs"]) == 3 and json.loads(hyper["batch-size"]) == 64
    assert (job_dir / "output" / "success").exists()
    assert {"report.html", "report.md", "roc.png", "confusion.png", "training.png"} <= {
        p.name for p in (job_dir / "evaluation").iterdir()}


def test_store_holds_sagemaker_channel_rows(pipeline_run) -> None:
    home, _ = pipeline_run
    [train_csv] = (home / "store" / "sagemaker" / "sentiment_rnn").glob("*/train.csv")
    lines = train_csv.read_text().splitlines()
    assert len(lines) == 3000
    fields = [int(v) for v in lines[0].split(",")]
    assert len(fields) == 502 and fields[0] in (0, 1) and 0 <= fields[1] <= 500
    assert all(v == 0 for v in fields[2 + fields[1]:])  # padding after the real words
    assert (train_csv.parent / "word_dict.json").exists()


def test_second_run_skips_every_step(pipeline_run, real_data: Path) -> None:
    home, metrics = pipeline_run
    log = home / "jobs" / Path(metrics["model_dir"]).name / "output" / "train.log"
    before = log.read_text()
    again = cli(home, real_data, "pipeline", *SAMPLE, "--epochs", "3", "--batch-size", "64", "--json")
    assert json.loads(again.stdout.strip().splitlines()[-1]) == metrics
    assert log.read_text() == before  # no training happened


def test_the_model_is_a_registry_version_with_its_evaluation(pipeline_run, real_data: Path) -> None:
    home, metrics = pipeline_run
    assert metrics["version"] == 1
    version = json.loads(cli_in_home(home, "models", "describe", "1", "--json").output)
    assert version["model_dir"] == metrics["model_dir"] and version["status"] == "PendingManualApproval"
    recorded = version["metrics"]
    assert recorded["accuracy"] == metrics["accuracy"] and recorded["short"] == metrics["short"]
    assert recorded["behaviour_pass_rate"] == metrics["behaviour"]["pass_rate"]
    again = cli(home, real_data, "pipeline", *SAMPLE, "--epochs", "3", "--batch-size", "64", "--approve-if-better")
    assert "version 1 approved: no version was approved before" in again.stdout
    approved = json.loads(cli_in_home(home, "models", "versions", "--json").output)
    assert [(v["version"], v["status"]) for v in approved] == [(1, "Approved")]  # the same folder, the same version


def test_interrupted_job_resumes_to_the_same_weights(pipeline_run, real_data: Path, tmp_path: Path) -> None:
    home, _ = pipeline_run
    args = ["train", *SAMPLE, "--epochs", "3", "--batch-size", "100"]
    command = [sys.executable, "-m", "sentiment_app", *args, "--home", str(home), "--data", str(real_data)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 240
    checkpoints: list[Path] = []
    while not checkpoints and time.monotonic() < deadline and process.poll() is None:
        checkpoints = [path for path in (home / "jobs").glob("*/checkpoints/checkpoint.pt")
                       if not (path.parents[1] / "output" / "success").exists()]  # not the fixture's job
        time.sleep(0.2)
    assert checkpoints, "no checkpoint was written"
    os.killpg(process.pid, signal.SIGKILL)  # the CLI and the training process with it
    process.wait()
    job_dir = checkpoints[0].parents[1]

    cli(home, real_data, *args)
    assert "Resuming from" in (job_dir / "output" / "train.log").read_text()
    resumed = home / "models" / job_dir.name / "model.safetensors"

    # The same entry point, uninterrupted, on the same channel data gives the very same weights.
    fresh = tmp_path / "fresh"
    subprocess.run(
        [sys.executable, "-m", "sentiment_app.training.train", "--epochs", "3", "--batch-size", "100",
         "--data-dir", str(job_dir / "input" / "data" / "training"), "--model-dir", str(fresh / "model"),
         "--checkpoint-dir", str(fresh / "checkpoints")],
        check=True, capture_output=True,
    )
    assert (fresh / "model" / "model.safetensors").read_bytes() == resumed.read_bytes()
