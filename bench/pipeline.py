"""Benchmark: our pipeline next to the original notebook's approach, step by step.

    python bench/pipeline.py --data PATH [--quick]

Steps: (a) features for train + test (ours: 2 tokenizer workers with a stem cache, dictionary,
encoding; original: BeautifulSoup + per-word stemming in one process, ``build_dict``,
``convert_and_pad`` per review), (b) one training epoch (ours: LSTM over each review's real
length; original: LSTM over all 500 steps) with the same seed, batches, Adam and BCE, (c) scoring
the test set with the same trained weights in both models. Each step runs in a fresh process so
its peak memory is its own (every step process imports the same modules, torch included, so
both sides start from the same baseline): the peak of the summed PSS of the step's process tree (PSS splits pages
that forked workers share, so they are not counted twice), sampled every 0.1 s, and never below
the step process's own peak RSS.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import psutil
import torch

import original
from sentiment_app.data.dataset import load_imdb, shuffled, stratified_sample
from sentiment_app.evaluation.metrics import compute_metrics
from sentiment_app.features.encode import encode_rows
from sentiment_app.features.prepare import tokenize_all
from sentiment_app.features.vocab import build_vocab
from sentiment_app.models.registry import MODELS, SEED_MODEL, build_model

SEED, WORKERS = 1, 2
BATCH = MODELS[SEED_MODEL].hyperparameters["batch_size"]  # the original recipe's
SIDES = ("ours", "original")
STAGES = ("features", "train", "score")


def cpu_seconds() -> float:
    """User + system time of this process and its finished children (the tokenizer workers)."""
    return sum(r.ru_utime + r.ru_stime for r in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))


@contextmanager
def timed(result: dict) -> Iterator[None]:
    """Wall and CPU seconds of the block, into ``result``; CPU time is what contention inflates least."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    yield
    result["seconds"], result["cpu_seconds"] = time.perf_counter() - wall, cpu_seconds() - cpu


def load_splits(data: Path, per_split: int) -> dict:
    """Both splits in a seeded random order (the files are sorted by label), ``per_split`` each."""
    splits = load_imdb(data)
    return {name: stratified_sample(r, per_split, SEED) if per_split < len(r) else shuffled(r, SEED)
            for name, r in splits.items()}


def features(ours: bool, args: argparse.Namespace) -> dict:
    splits = load_splits(args.data, args.reviews)
    n_train = len(splits["train"])
    texts = splits["train"].texts + splits["test"].texts
    result = {"count": len(texts)}
    with timed(result):
        if ours:
            tokens = tokenize_all(texts, WORKERS)
            rows = encode_rows(build_vocab(tokens[:n_train]), tokens)
        else:
            tokens = [original.review_to_words(text) for text in texts]
            original.convert_and_pad_data(original.build_dict(tokens[:n_train]), tokens)
    if ours:
        np.savez(args.work / "rows.npz", train=rows[:n_train], test=rows[n_train:],
                 train_labels=splits["train"].labels, test_labels=splits["test"].labels)
    digests = [hashlib.md5(" ".join(words).encode()).hexdigest()[:12] for words in tokens]
    (args.work / f"tokens-{SIDES[not ours]}.json").write_text(json.dumps(digests))
    return result


def _model(ours: bool) -> torch.nn.Module:
    return build_model("lstm-seed", {}) if ours else original.OriginalLSTMClassifier()


def _rows(args: argparse.Namespace, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    stored = np.load(args.work / "rows.npz")
    return torch.from_numpy(stored[split]), torch.from_numpy(stored[f"{split}_labels"].astype(np.float32))


def train(ours: bool, args: argparse.Namespace) -> dict:
    """One epoch of the original loop: batches in file order, Adam, BCE."""
    x, y = _rows(args, "train")
    torch.manual_seed(SEED)
    model = _model(ours)
    optimizer = torch.optim.Adam(model.parameters())
    loss_fn = torch.nn.BCELoss()
    model.train()
    result, losses = {"count": len(x)}, []
    with timed(result):
        for i in range(0, len(x), BATCH):
            optimizer.zero_grad()
            loss = loss_fn(model(x[i : i + BATCH]).reshape(-1), y[i : i + BATCH])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    if ours:
        torch.save(model.state_dict(), args.work / "trained.pt")
    return {**result, "loss": float(np.mean(losses))}


def score(ours: bool, args: argparse.Namespace) -> dict:
    """Probabilities for the whole test set; both sides load the weights ``train ours`` saved."""
    x, y = _rows(args, "test")
    model = _model(ours)
    model.load_state_dict(torch.load(args.work / "trained.pt", weights_only=True))
    model.eval()
    result = {"count": len(x)}
    with timed(result), torch.inference_mode():
        p = torch.cat([model(x[i : i + BATCH]).reshape(-1) for i in range(0, len(x), BATCH)]).numpy()
    np.save(args.work / f"probs-{SIDES[not ours]}.npy", p)
    return {**result, "accuracy": compute_metrics(y.numpy(), p)["accuracy"]}


def run_step(args: argparse.Namespace) -> None:
    """Child side: run one step and leave its result as JSON in the work folder."""
    stage, side = args.step.split("-", 1)
    torch.set_num_threads(args.threads)
    result = {"features": features, "train": train, "score": score}[stage](side == "ours", args)
    result["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    (args.work / f"{args.step}.json").write_text(json.dumps(result))


def tree_pss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_full_info().pss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


def measure(step: str, args: argparse.Namespace) -> dict:
    """Run ``step`` in a fresh process, sampling its memory; its output goes to ``<step>.log``."""
    cmd = [sys.executable, __file__, "--step", step, "--data", str(args.data), "--reviews", str(args.reviews),
           "--work", str(args.work), "--threads", str(args.threads)]
    peak = 0
    with open(args.work / f"{step}.log", "w") as log:
        proc = psutil.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        while proc.poll() is None:
            try:
                peak = max(peak, tree_pss(proc))
            except psutil.NoSuchProcess:
                pass
            time.sleep(0.1)
    if proc.returncode:
        sys.exit(f"step {step} failed:\n{(args.work / f'{step}.log').read_text()[-3000:]}")
    result = json.loads((args.work / f"{step}.json").read_text())
    result["peak_mb"] = max(peak / 2**20, result["maxrss_mb"])
    print(f"  {step}: {result['seconds']:.1f} s, CPU {result['cpu_seconds']:.1f} s, {result['peak_mb']:.0f} MB",
          file=sys.stderr, flush=True)
    return result


def report(results: dict, work: Path) -> None:
    titles = {"features": "features, {count:,} reviews", "train": "train 1 epoch, {count:,} rows",
              "score": "score test set, {count:,} rows"}
    columns = ("s", "CPU s", "MB")
    print(f"\n{'':<31}|{'ours':^27}|{'original':^27}|{'speed-up':^17}")
    print(f"{'step':<31}|" + "".join(f"{c:>9}" for c in columns) * 2 + f"|{'wall':>8}{'CPU':>8}")
    for stage in STAGES:
        ours, orig = results[f"{stage}-ours"], results[f"{stage}-original"]
        cells = "".join(f"{r['seconds']:>9.1f}{r['cpu_seconds']:>9.1f}{r['peak_mb']:>9.0f}" for r in (ours, orig))
        print(f"{titles[stage].format(**ours):<31}|{cells}|{orig['seconds'] / ours['seconds']:>7.1f}x"
              f"{orig['cpu_seconds'] / ours['cpu_seconds']:>7.1f}x")

    same = [a == b for a, b in zip(*(json.loads((work / f"tokens-{side}.json").read_text()) for side in SIDES))]
    print(f"\nfeatures: identical token lists for {sum(same):,} of {len(same):,} reviews ({np.mean(same):.2%})")
    print(f"train: mean BCE loss ours {results['train-ours']['loss']:.6f}, "
          f"original {results['train-original']['loss']:.6f} (same seed, same batches)")
    lengths = np.load(work / "rows.npz")["test"][:, 0]
    p_ours, p_orig = (np.load(work / f"probs-{side}.npy") for side in SIDES)
    real = lengths > 0
    print(f"same weights, test set: max |p_ours - p_original| = {np.abs(p_ours - p_orig)[real].max():.2e} over "
          f"{real.sum():,} reviews with words ({(~real).sum()} of length 0 differ by design)")
    print(f"test accuracy after 1 epoch: ours {results['score-ours']['accuracy']:.4f}, "
          f"original {results['score-original']['accuracy']:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="IMDB data (archive, aclImdb/ or CSV pair)")
    parser.add_argument("--quick", action="store_true", help="1,000 reviews per split: a smoke check")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads per step (1: on a shared machine, OpenMP threads waiting "
                             "for each other distort the timings far more than the work itself)")
    parser.add_argument("--reviews", type=int, default=25_000, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--step", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        return run_step(args)
    if args.quick:
        args.reviews = 1000
    print(f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; torch threads {args.threads}; every step in a "
          f"fresh process; {args.reviews:,} reviews per split", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="sa-bench-") as tmp:
        args.work = Path(tmp)
        results = {f"{stage}-{side}": measure(f"{stage}-{side}", args) for stage in STAGES for side in SIDES}
        report(results, args.work)


if __name__ == "__main__":
    main()
