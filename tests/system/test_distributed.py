"""Two-process training (torchrun + DDP over gloo) against one process, through the real CLI.

Both runs are ``sentiment-app train`` on the same slice of real reviews with the same recipe, one
with ``--nproc-per-node 2``; they share a store, so the features are prepared once. Test accuracy
is measured by loading each model with the normal loader and scoring the prepared test rows.
Which process wrote which file is observed, not inferred: the two-process run gets a
``sitecustomize`` that installs a Python audit hook in every interpreter and logs each file it
opens for writing (or renames into place) under the home, per ``RANK``. (Sharding and the single
process case without processes: ``tests/unit/test_distributed.py``.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from sentiment_app.artifacts.model_dir import ARTIFACT_FILES, MANIFEST, load_model_dir
from sentiment_app.data.dataset import load_imdb, stratified_sample
from sentiment_app.features.prepare import read_rows, write_rows
from sentiment_app.inference.model import SentimentModel
from sentiment_app.models.registry import build_model
from tests.data_support import csv_gz
from tests.support import CLI, NEGATIVE, POSITIVE, free_port

REVIEWS, EPOCHS, BATCH = 1000, 2, 50

WRITE_AUDIT = '''
import os, sys
ROOT, LOG = os.environ["WRITE_AUDIT_ROOT"], os.environ["WRITE_AUDIT_LOG"]
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT

def hook(event, args):
    if event == "open":
        path, mode, flags = args
        writes = any(c in mode for c in "wax+") if isinstance(mode, str) else bool(flags & WRITE_FLAGS)
    elif event == "os.rename":
        path, writes = args[1], True
    else:
        return
    if writes and isinstance(path, (str, os.PathLike)) and os.fspath(path).startswith(ROOT):
        with open(f"{LOG}.{os.environ.get('RANK', 'launcher')}", "a") as f:
            f.write(os.fspath(path) + "\\n")

sys.addaudithook(hook)
'''


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, real_data: Path) -> dict[int, dict]:
    """``{nproc: {"model_dir", "job_dir", "accuracy", "probabilities"}}``, plus ``"writes"``."""
    data, store, hooks = (tmp_path_factory.mktemp(name) for name in ("data", "store", "hooks"))
    for name, reviews in load_imdb(real_data).items():
        (data / f"{name}.csv.gz").write_bytes(csv_gz(stratified_sample(reviews, REVIEWS, seed=5)))
    (hooks / "sitecustomize.py").write_text(WRITE_AUDIT)
    result: dict = {"writes": hooks / "writes"}
    for nproc in (1, 2):
        home = tmp_path_factory.mktemp(f"home{nproc}")
        env = {**os.environ, "PYTHONPATH": str(hooks), "WRITE_AUDIT_ROOT": str(home),
               "WRITE_AUDIT_LOG": str(hooks / "writes")} if nproc == 2 else None
        command = [CLI, "train", "--epochs", str(EPOCHS), "--batch-size", str(BATCH), "--nproc-per-node", str(nproc),
                   "--home", str(home), "--store", str(store), "--data", str(data)]
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        [job_dir] = (home / "jobs").iterdir()
        labels, rows = read_rows(job_dir / "input" / "data" / "validation" / "test.csv")
        probabilities = SentimentModel.load(home / "models" / job_dir.name).predict_rows(rows)
        result[nproc] = {"model_dir": home / "models" / job_dir.name, "job_dir": job_dir,
                         "probabilities": probabilities, "accuracy": float(np.mean((probabilities >= 0.5) == labels))}
    return result


@pytest.mark.slow
def test_two_processes_reach_the_accuracy_of_one(runs: dict) -> None:
    one, two = runs[1], runs[2]
    assert len(one["probabilities"]) == len(two["probabilities"]) == REVIEWS
    assert one["accuracy"] > 0.55  # it learned something, so the comparison means something
    assert abs(two["accuracy"] - one["accuracy"]) <= 0.01
    # Same recipe, same optimizer steps: the two models agree review by review, not only on average.
    p1, p2 = one["probabilities"], two["probabilities"]
    assert np.mean((p1 >= 0.5) == (p2 >= 0.5)) >= 0.99 and np.abs(p1 - p2).max() < 0.05
    history = [json.loads((run["model_dir"] / "metrics.json").read_text())["history"] for run in (one, two)]
    assert len(history[0]) == len(history[1]) == EPOCHS
    for h1, h2 in zip(*history):
        assert h2["loss"] == pytest.approx(h1["loss"], abs=2e-3)
        assert h2["val_accuracy"] == pytest.approx(h1["val_accuracy"], abs=0.01)
    assert history[1][-1]["val_accuracy"] == pytest.approx(two["accuracy"])  # reduced over ranks = whole test set


@pytest.mark.slow
def test_two_process_artifacts_load_and_serve(runs: dict) -> None:
    run = runs[2]
    artifacts = load_model_dir(run["model_dir"])  # refuses anything that does not match the manifest
    assert set(artifacts.state_dict) == set(build_model("lstm-seed", {}).state_dict())  # unwrapped: no "module." prefix
    assert artifacts.config["training"]["batch_size"] == BATCH and len(artifacts.metrics["history"]) == EPOCHS
    positive, negative = SentimentModel.load(run["model_dir"]).predict_proba([POSITIVE, NEGATIVE])
    assert 0.0 <= negative < positive <= 1.0
    assert (run["job_dir"] / "output" / "model.tar.gz").is_file() and (run["job_dir"] / "output" / "success").exists()


@pytest.mark.slow
def test_only_rank_zero_writes(runs: dict) -> None:
    run, writes = runs[2], runs["writes"]
    assert not Path(f"{writes}.1").exists(), Path(f"{writes}.1").read_text()
    by_rank0 = {Path(p) for p in Path(f"{writes}.0").read_text().splitlines()}
    job_dir = run["job_dir"]
    assert {job_dir / "model" / name for name in (*ARTIFACT_FILES, MANIFEST)} <= by_rank0
    assert job_dir / "checkpoints" / "checkpoint.pt" in by_rank0
    # Nothing stray: exactly the artifacts and one checkpoint, no leftover temporary files.
    assert sorted(p.name for p in (job_dir / "model").iterdir()) == sorted((*ARTIFACT_FILES, MANIFEST))
    assert [p.name for p in (job_dir / "checkpoints").iterdir()] == ["checkpoint.pt"]
    checkpoint = torch.load(job_dir / "checkpoints" / "checkpoint.pt", weights_only=True)
    assert checkpoint["epoch"] == EPOCHS
    saved = load_model_dir(job_dir / "model").state_dict
    assert checkpoint["model"].keys() == saved.keys()
    assert all(torch.equal(checkpoint["model"][k], saved[k]) for k in saved)
    log = (job_dir / "output" / "train.log").read_text()
    assert [log.count(f"epoch {e}: ") for e in range(1, EPOCHS + 1)] == [1] * EPOCHS  # printed by rank 0 only


def rows_channel(folder: Path) -> Path:
    """99 random rows (batch 7 over 2 processes splits 3 + 4; the last batch is one row) and their dictionary."""
    g = np.random.default_rng(0)
    lengths = g.integers(1, 21, 99)
    ids = np.where(np.arange(20) < lengths[:, None], g.integers(2, 50, (99, 20)), 0)
    channel = folder / "training"
    channel.mkdir()
    write_rows(channel / "train.csv", (ids[:, :3].sum(1) % 2).astype(np.int64), np.column_stack([lengths, ids]))
    (channel / "word_dict.json").write_text(json.dumps({f"w{i}": i for i in range(2, 50)}))
    return channel


def entry_point(channel: Path, out: Path, *launcher: str) -> list[str]:
    """The training entry point on ``channel`` with a small recipe, writing under ``out``."""
    return [sys.executable, *launcher, "-m", "sentiment_app.training.train", "--epochs", "2", "--batch-size", "7",
            "--vocab_size", "50", "--embedding_dim", "4", "--hidden_dim", "8", "--data-dir", str(channel),
            "--model-dir", str(out / "model"), "--checkpoint-dir", str(out / "checkpoints")]


def assert_same_steps(one: Path, two: Path) -> None:
    first, second = load_model_dir(one), load_model_dir(two)
    for name, weights in first.state_dict.items():
        torch.testing.assert_close(second.state_dict[name], weights, atol=1e-5, rtol=1e-4, msg=name)
    for h1, h2 in zip(first.metrics["history"], second.metrics["history"]):
        assert h2["loss"] == pytest.approx(h1["loss"], rel=1e-5)


@pytest.mark.slow
def test_uneven_shards_and_a_one_row_batch_give_the_single_process_steps(tmp_path: Path) -> None:
    """Batch 7 over 2 processes splits 3 + 4, and the last batch of 99 rows is one row (a
    placeholder on rank 0): the weighting must still give the single-process gradients."""
    channel = rows_channel(tmp_path)
    for nproc in (1, 2):
        launcher = ["-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"] if nproc == 2 else []
        done = subprocess.run(entry_point(channel, tmp_path / str(nproc), *launcher), capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
    assert_same_steps(tmp_path / "1" / "model", tmp_path / "2" / "model")


@pytest.mark.slow
def test_two_sagemaker_cpu_hosts_join_without_a_launcher_and_take_the_single_process_steps(tmp_path: Path) -> None:
    """A CPU job on two instances: no torchrun, the entry point once per host with only SageMaker's
    variables; the hosts' names reach loopback through MASTER_ADDR, which SageMaker's toolkit sets too."""
    channel = rows_channel(tmp_path)
    done = subprocess.run(entry_point(channel, tmp_path / "alone"), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    hosts = ["algo-1", "algo-2"]
    base = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK") and not k.startswith("SM_")}
    sagemaker = {"SM_HOSTS": json.dumps(hosts), "SM_NUM_CPUS": "1", "MASTER_ADDR": "127.0.0.1",
                 "MASTER_PORT": str(free_port())}
    processes = [subprocess.Popen(entry_point(channel, tmp_path / host), env={**base, **sagemaker, "SM_CURRENT_HOST": host},
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for host in hosts]
    outputs = [process.communicate(timeout=300) for process in processes]
    assert [p.returncode for p in processes] == [0, 0], [err[-3000:] for _, err in outputs]
    assert_same_steps(tmp_path / "alone" / "model", tmp_path / "algo-1" / "model")
    assert not [path for path in (tmp_path / "algo-2").rglob("*") if path.is_file()]  # the second host writes nothing
    assert outputs[0][0].strip() and not outputs[1][0].strip()  # and prints nothing
