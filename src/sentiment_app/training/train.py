"""SageMaker script-mode training entry point (``python train.py --epochs 10 ...``).

Contract: hyperparameters arrive as command-line arguments; data from ``SM_CHANNEL_TRAINING``
(``train.csv`` rows ``label, length, review[pad]``, ``word_dict.json`` and, optionally, ``extra.csv``:
more rows of extra labeled reviews, trained on like the others and recorded in the metrics), an optional
``SM_CHANNEL_VALIDATION`` used only to report accuracy per epoch; artifacts go to
``SM_MODEL_DIR``; a checkpoint is written to ``<SAGEMAKER_BASE_DIR or /opt/ml>/checkpoints`` after
every epoch and picked up on restart. Every default works without those variables.
``--family`` picks the model family (:mod:`sentiment_app.training.arguments`): the text families
(``--family nbsvm|bilstm|region-cnn|ensemble``) read a ``label,text`` channel instead and are
trained by :mod:`sentiment_app.training.fit_text`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from sentiment_app.models.metric_log import metric_line
from sentiment_app.artifacts.model_dir import save_model_dir
from sentiment_app.features.prepare import extra_record, read_rows
from sentiment_app.fileio import atomic_open, sha256_file
from sentiment_app.models.registry import MODELS, TEXT, build_model, get_spec, network_hyperparameters
from sentiment_app.training import distributed
from sentiment_app.training.arguments import hyperparameters, parse_args, requested_family
from sentiment_app.training.fit_text import train_text_model

CHECKPOINT = "checkpoint.pt"


def load_channel(folder: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """All ``*.csv`` files of a channel, in name order (a channel may hold several files)."""
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise FileNotFoundError(f"No .csv files in the channel folder {folder}")
    parts = [read_rows(path) for path in files]
    labels = np.concatenate([labels for labels, _ in parts])
    rows = np.concatenate([rows for _, rows in parts])
    return torch.from_numpy(rows), torch.from_numpy(labels.astype(np.float32))


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 2048) -> float:
    model.eval()
    correct = 0
    for i in range(0, len(x), batch_size):
        correct += int(((model(x[i : i + batch_size]) >= 0.5).float() == y[i : i + batch_size]).sum())
    return correct / max(len(x), 1)


def data_fingerprint(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*")):
        if path.is_file():
            digest.update(path.name.encode() + sha256_file(path).encode())
    return digest.hexdigest()


def train(args: argparse.Namespace, ctx: distributed.Context = distributed.Context()) -> dict:
    """The original loop (Adam, BCE, batches in file order), plus checkpoints and metrics.

    Under torchrun each process trains on its share of every batch (``distributed``); rank 0
    alone prints, checkpoints and saves the artifacts."""
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    x, y = load_channel(args.data_dir)
    val = load_channel(args.validation_dir) if args.validation_dir else None
    recipe = hyperparameters(args)
    hyper = network_hyperparameters(args.family, recipe)
    model = build_model(args.family, hyper)
    net = distributed.wrap(model, ctx)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.BCELoss()
    history: list[dict] = []
    start = 1
    checkpoint = args.checkpoint_dir / CHECKPOINT
    if checkpoint.is_file():
        state = torch.load(checkpoint, weights_only=True, map_location="cpu")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        history, start = state["history"], state["epoch"] + 1
        if ctx.is_main:
            print(f"Resuming from {checkpoint} after epoch {state['epoch']}", flush=True)

    for epoch in range(start, args.epochs + 1):
        model.train()
        started, total, batches = time.perf_counter(), 0.0, 0
        bar = tqdm(range(0, len(x), args.batch_size), desc=f"epoch {epoch}/{args.epochs}", unit="batch", file=sys.stderr,
                   disable=not ctx.is_main)
        for i in bar:
            part = distributed.shard(i, min(i + args.batch_size, len(x)), ctx)
            optimizer.zero_grad()
            loss = loss_fn(net(part.of(x)), part.of(y)) * part.weight
            loss.backward()
            optimizer.step()
            total, batches = total + loss.item(), batches + 1
            bar.set_postfix(loss=f"{total / batches:.4f}")
        record = {"epoch": epoch, "loss": distributed.mean_over_ranks(total, 1.0, ctx) / max(batches, 1),
                  "seconds": time.perf_counter() - started}
        if val is not None:
            part = distributed.shard(0, len(val[0]), ctx)
            record["val_accuracy"] = distributed.mean_over_ranks(accuracy(model, part.of(val[0]), part.of(val[1])),
                                                                 part.weight, ctx)
        history.append(record)
        if ctx.is_main:
            scores = {"val_accuracy": record["val_accuracy"]} if val is not None else {}
            print(metric_line(f"epoch {epoch}", train_loss=record["loss"], **scores)
                  + f", seconds: {record['seconds']:.1f}", flush=True)
            args.checkpoint_dir.mkdir(parents=True, exist_ok=True)
            with atomic_open(checkpoint) as f:
                torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                            "epoch": epoch, "history": history}, f)
        distributed.barrier(ctx)

    vocab = json.loads((args.data_dir / "word_dict.json").read_text("utf-8"))
    training = {k: v for k, v in recipe.items() if k not in hyper}
    config = {"model": args.family, "hyperparameters": hyper, "pad": int(x.shape[1] - 1),
              "training": {**training, "seed": args.seed}}
    metrics = {"history": history, "train_rows": len(x), "extra_data": extra_record(args.data_dir)}
    if ctx.is_main:
        save_model_dir(args.model_dir, model.state_dict(), config, vocab, metrics, data_fingerprint(args.data_dir))
    distributed.barrier(ctx)
    return metrics


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    family = requested_family(argv)
    if family in MODELS and get_spec(family).channel == TEXT:
        # Text models fit in one process; launched several times (torchrun, or every host of a
        # multi-instance SageMaker job), only rank 0 trains, so no two processes write the model folder.
        if distributed.is_main_process():
            train_text_model(argv, data_fingerprint)
        return
    args = parse_args(argv, __doc__.splitlines()[0])
    with distributed.session() as ctx:
        train(args, ctx)


if __name__ == "__main__":
    main()
