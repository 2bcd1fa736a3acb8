"""Benchmark: every model family on the official split, next to two reference baselines.

    python bench/models.py --data ../shared/data [--models nbsvm,bilstm,region-cnn,ensemble,lstm-seed]
                           [--trained LABEL=MODEL_DIR ...] [--quick] [--out bench-models]

Each model is trained through the project's SageMaker entry point (``python -m
sentiment_app.training.train --family NAME``, a fresh process, ``--threads`` torch threads) on the
training split and scored on the whole test split through ``SentimentModel`` (the serving path).
Columns: test accuracy, ROC AUC, accuracy on the short sentences of the data folder (imdb, yelp,
amazon and their mean), the behavioural checks' negation and invariance pass rates, expected
calibration error on the test split and on the short sentences, training seconds (wall, the entry
point's whole run), model size (artifact files), p50/p99 latency of ``predict_proba([one review])``
over 200 test reviews with one torch thread, and over 200 typed sentences (the short sets); whole
splits are scored with torch's default threads.
``--trained`` adds rows for model folders trained before (the encoder's fine-tuning takes the better
part of an hour: it is trained once, by the entry point, and scored here). Validation inside training is cut by movie. When the ensemble is benched, its members' rows are the members inside it (saved as
their own model folders; training time = the member's own fit inside the ensemble run), so nothing
is trained twice. Baselines computed in the same run: TF-IDF (1-2 grams) + logistic regression,
and ``lstm-seed`` (the original recipe). Last, the feature step and ``lstm-seed`` training on the
full data, ours against the original notebook's code (bench/pipeline.py's steps, each in a fresh
process: features, and one epoch; ten epochs are estimated as ten times one). ``--out`` writes the
table as ``<out>.md`` and ``<out>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from tqdm import tqdm

import pipeline as pipeline_bench
from sentiment_app.artifacts.model_dir import ARTIFACT_FILES, MANIFEST, save_model_dir
from sentiment_app.data.dataset import Reviews, load_imdb, shuffled, stratified_sample
from sentiment_app.evaluation.behaviour import run_checks
from sentiment_app.evaluation.calibration import reliability
from sentiment_app.evaluation.metrics import compute_metrics
from sentiment_app.evaluation.short import load_short, short_accuracy
from sentiment_app.features.prepare import FeatureSettings, prepare_features, write_texts
from sentiment_app.inference.model import SentimentModel
from sentiment_app.models.ensemble import member_hyper
from sentiment_app.models.registry import MODELS, ROWS
from sentiment_app.store.local import LocalStore

SEED = 1
LATENCY_REVIEWS = 200
BASELINE = "tfidf-lr (baseline)"
MAX_LATENCY_MS, MAX_SIZE_MB = 5.0, 100.0  # the default's limits: one review, artifact
QUICK = {"lstm-seed": ["--epochs", "2"], "bilstm": ["--epochs", "2"], "region-cnn": ["--epochs", "2"],
         "ensemble": ["--cnn_epochs", "2"]}


def load(data: Path, per_split: int | None) -> dict[str, Reviews]:
    splits = load_imdb(data)
    if per_split:
        splits = {name: stratified_sample(r, per_split, SEED) for name, r in splits.items()}
    return {name: shuffled(r, SEED) for name, r in splits.items()}


def channels(splits: dict[str, Reviews], work: Path) -> dict[str, Path]:
    """Both training channels: the encoded rows (+ word_dict.json) and the ``label,text`` rows."""
    store = LocalStore(work / "store")
    prepared = prepare_features(store, splits, FeatureSettings(), workers=2)
    rows, text = work / "channel-rows", work / "channel-text"
    store.get_file(prepared.train_key, rows / "train.csv")
    store.get_file(prepared.vocab_key, rows / "word_dict.json")
    text.mkdir(parents=True, exist_ok=True)
    write_texts(text / "train.csv", splits["train"])
    return {"rows": rows, "text": text}


def train(name: str, channel: Path, work: Path, threads: int, quick: bool) -> tuple[Path, float]:
    """Run the entry point for ``name`` with its default hyperparameters; return its folder and wall seconds."""
    model_dir = work / "models" / name
    command = [sys.executable, "-m", "sentiment_app.training.train", "--family", name, "--seed", str(SEED),
               "--data-dir", str(channel), "--model-dir", str(model_dir), *(QUICK.get(name, []) if quick else [])]
    if MODELS[name].channel == ROWS:
        command += ["--checkpoint-dir", str(work / "checkpoints" / name)]
    else:
        command += ["--threads", str(threads)]
    started = time.perf_counter()
    with open(work / f"train-{name}.log", "w") as log:
        code = subprocess.call(command, stdout=log, stderr=subprocess.STDOUT)
    if code:
        sys.exit(f"training {name} failed:\n{(work / f'train-{name}.log').read_text()[-3000:]}")
    return model_dir, time.perf_counter() - started


def split_members(ensemble_dir: Path, work: Path) -> dict[str, tuple[Path, float]]:
    """Each ensemble member as its own model folder, with its fit seconds inside the ensemble run."""
    model = SentimentModel.load(ensemble_dir)
    config = json.loads((ensemble_dir / "config.json").read_text())
    out = {}
    for key, member in model.text_model.members.items():
        name, saved = type(member).name, member.save()  # the member's model name, e.g. "region-cnn" for "cnn"
        target = work / "models" / f"{name}-member"
        save_model_dir(target, saved.tensors, {"model": name, "hyperparameters": member_hyper(config["hyperparameters"], key),
                                               "state": saved.state}, saved.vocab, saved.metrics, "ensemble member")
        out[name] = (target, model.metrics[key]["seconds"])
    return out


def latency(predict, texts: list[str]) -> tuple[float, float]:
    """p50 and p99 milliseconds of ``predict([one review])`` with one torch thread, after a few
    warm-up calls (scoring whole splits uses every core)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    for text in texts[:10]:
        predict([text])
    times = []
    for text in texts:
        started = time.perf_counter()
        predict([text])
        times.append(time.perf_counter() - started)
    torch.set_num_threads(threads)
    return float(np.percentile(times, 50) * 1000), float(np.percentile(times, 99) * 1000)


def typed_sentences(data: Path) -> list[str]:
    """What people type: the short sentences of the data folder, a seeded sample."""
    texts = [t for reviews in load_short(data).values() for t in reviews.texts]
    return [texts[i] for i in np.random.default_rng(SEED).permutation(len(texts))[:LATENCY_REVIEWS]]


def score(predict, test: Reviews, data: Path) -> dict:
    probabilities = np.concatenate([predict(test.texts[i : i + 1000]) for i in tqdm(range(0, len(test), 1000),
                                                                                     desc="score", unit="k reviews")])
    metrics = compute_metrics(test.labels, probabilities)
    short = short_accuracy(predict, data)
    checked = run_checks(predict)
    checks = {"all": checked["pass_rate"], **{name: r["pass_rate"] for name, r in checked["capabilities"].items()}}
    p50, p99 = latency(predict, test.texts[:LATENCY_REVIEWS])
    sentence_p50, _ = latency(predict, typed_sentences(data))
    return {"accuracy": metrics["accuracy"], "roc_auc": metrics["roc_auc"], "short": short.accuracy,
            "behaviour": checks, "ece_test": reliability(test.labels, probabilities).ece,
            "ece_short": reliability(short.labels, short.probabilities).ece,
            "latency_p50_ms": p50, "latency_p99_ms": p99, "sentence_p50_ms": sentence_p50}


def trained_folders(values: list[str]) -> dict[str, tuple[Path, float]]:
    """``--trained LABEL=DIR``: folders trained before (the encoder's hour is not spent per bench run),
    each with the training seconds its metrics recorded."""
    out = {}
    for value in values:
        label, _, folder = value.partition("=")
        metrics = json.loads((Path(folder) / "metrics.json").read_text())
        out[label] = (Path(folder), float(metrics.get("seconds", float("nan"))))
    return out


def model_row(name: str, model_dir: Path, seconds: float, test: Reviews, data: Path) -> dict:
    model = SentimentModel.load(model_dir)
    size = sum((model_dir / f).stat().st_size for f in (*ARTIFACT_FILES, MANIFEST))
    return {"model": name, "val_accuracy": model.metrics.get("val_accuracy"), **score(model.predict_proba, test, data),
            "train_seconds": seconds, "size_mb": size / 2**20}


def rule_score(row: dict) -> float | None:
    """The default's rule, on validation only: the mean of the movie-grouped validation accuracy,
    the yelp and amazon sentences' mean accuracy and the behavioural pass rate, for a family within
    the latency and size limits (None otherwise, or without a validation accuracy)."""
    if row.get("val_accuracy") is None or row["latency_p50_ms"] > MAX_LATENCY_MS or row["size_mb"] > MAX_SIZE_MB:
        return None
    other_products = (row["short"]["yelp"] + row["short"]["amazon"]) / 2
    return (row["val_accuracy"] + other_products + row["behaviour"]["all"]) / 3


def tfidf_row(splits: dict[str, Reviews], data: Path) -> dict:
    """TF-IDF (1-2 grams, sublinear tf, words seen twice) + logistic regression, in this process.
    Its size counts the vocabulary's characters and the weights (it has no artifact folder)."""
    started = time.perf_counter()
    baseline = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
                             LogisticRegression(solver="liblinear")).fit(splits["train"].texts, splits["train"].labels)
    seconds = time.perf_counter() - started
    size = sum(len(w) + 8 for w in baseline[0].vocabulary_) + baseline[1].coef_.nbytes
    return {"model": BASELINE, **score(lambda texts: baseline.predict_proba(texts)[:, 1], splits["test"], data),
            "train_seconds": seconds, "size_mb": size / 2**20}


def against_original(data: Path, per_split: int, work: Path) -> dict:
    """bench/pipeline.py's features and one-epoch steps, ours and the original's, each in a fresh process."""
    args = argparse.Namespace(data=data, reviews=per_split, work=work / "original", threads=1)
    args.work.mkdir()
    return {step: pipeline_bench.measure(step, args) for step in
            ("features-ours", "features-original", "train-ours", "train-original")}


def markdown(rows: list[dict], original: dict | None, header: str, per_split: int) -> str:
    lines = [header, "", "| model | rule score | val accuracy | test accuracy | ROC AUC | short imdb / yelp / amazon | "
             "short mean | negation | invariance | ECE test / short | training s | size MB | latency p50 ms | p99 ms | "
             "sentence p50 ms |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    fmt = lambda v: "-" if v is None else f"{v:.4f}"  # noqa: E731
    lines += [f"| {r['model']} | {fmt(rule_score(r))} | {fmt(r.get('val_accuracy'))} | {r['accuracy']:.4f} | {r['roc_auc']:.4f} | "
              f"{r['short']['imdb']:.3f} / {r['short']['yelp']:.3f} / {r['short']['amazon']:.3f} | "
              f"{r['short']['mean']:.3f} | {r['behaviour']['negation']:.1%} | {r['behaviour']['invariance']:.1%} | "
              f"{r['ece_test']:.3f} / {r['ece_short']:.3f} | {r['train_seconds']:.0f} | "
              f"{r['size_mb']:.1f} | {r['latency_p50_ms']:.2f} | {r['latency_p99_ms']:.2f} | "
              f"{r['sentence_p50_ms']:.2f} |" for r in rows]
    scored = [r for r in rows if rule_score(r) is not None]
    if scored:
        lines += ["", f"Default by the rule: {max(scored, key=rule_score)['model']}"]
    if original:
        lines += ["", f"| lstm-seed, {per_split:,} reviews per split | ours s | original notebook s | speed-up |",
                  "|---|---|---|---|"]
        for label, ours, orig in (
            ("features (train + test)", original["features-ours"]["seconds"], original["features-original"]["seconds"]),
            ("training, 1 epoch", original["train-ours"]["seconds"], original["train-original"]["seconds"]),
            ("features + 10 epochs (est.)", original["features-ours"]["seconds"] + 10 * original["train-ours"]["seconds"],
             original["features-original"]["seconds"] + 10 * original["train-original"]["seconds"]),
        ):
            lines.append(f"| {label} | {ours:.1f} | {orig:.1f} | {orig / ours:.1f}x |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True,
                        help="IMDB data folder (CSV pair or aclImdb/) with the short sentences in short/")
    parser.add_argument("--models", default="nbsvm,nbsvm-stack,bilstm,region-cnn,ensemble,lstm-seed",
                        help="comma-separated model names (lstm-seed is also the reference baseline)")
    parser.add_argument("--quick", action="store_true", help="1,000 reviews per split and 1-2 epochs: a smoke check")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads for training the text models (more only on a quiet machine: OpenMP threads "
                             "waiting for each other on a busy one make each batch many times slower)")
    parser.add_argument("--trained", action="append", default=[], metavar="LABEL=DIR",
                        help="also score this model folder trained before, as row LABEL (repeatable)")
    parser.add_argument("--no-original", action="store_true", help="skip the comparison with the original notebook")
    parser.add_argument("--out", type=Path, help="write the table to OUT.md and OUT.json")
    args = parser.parse_args()
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    if unknown := [n for n in names if n not in MODELS]:
        parser.error(f"unknown models {unknown}; known: {', '.join(MODELS)}")
    per_split = 1000 if args.quick else None
    header = (f"Measured {date.today().isoformat()}: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, "
              f"torch {torch.__version__}, {'1,000' if args.quick else 'all 25,000'} reviews per split; "
              f"training threads {args.threads} (lstm-seed 1); latency with 1 torch thread")
    print(header, file=sys.stderr)
    splits = load(args.data, per_split)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="sa-models-") as tmp:
        work = Path(tmp)
        paths = channels(splits, work)
        trained: dict[str, tuple[Path, float]] = {}
        for name in sorted(names, key=lambda n: n != "ensemble"):  # the ensemble first: it holds two members
            if name in trained:
                continue
            trained[name] = train(name, paths[MODELS[name].channel], work, args.threads, args.quick)
            if name == "ensemble":
                trained.update({k: v for k, v in split_members(trained[name][0], work).items() if k in names})
            print(f"  trained {name} in {trained[name][1]:.0f} s", file=sys.stderr, flush=True)
        trained.update(trained_folders(args.trained))
        rows = [model_row(name, *trained[name], splits["test"], args.data) for name in [*names, *trained_folders(args.trained)]]
        rows.append(tfidf_row(splits, args.data))
        original = None if args.no_original else against_original(args.data, per_split or 25_000, work)
    table = markdown(rows, original, header, per_split or 25_000)
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        Path(f"{args.out}.md").write_text(table)
        Path(f"{args.out}.json").write_text(json.dumps({"header": header, "models": rows, "original": original}, indent=2))


if __name__ == "__main__":
    main()
