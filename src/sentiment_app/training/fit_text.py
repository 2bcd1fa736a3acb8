"""The entry point's path for the text models (``train.py --model nbsvm --C 0.1 ...``).

Same SageMaker contract as the original recipe: hyperparameters as arguments (the model's own,
from the registry; anything else is refused), the ``label,text`` channel from
``SM_CHANNEL_TRAINING``, artifacts to ``SM_MODEL_DIR``. A stratified, seeded share of the training
data is held out for the model's own choices (early stopping, ensemble weight); the validation
channel (the test set in the local pipeline) is never read here.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from sentiment_app.artifacts import save_model_dir
from sentiment_app.data.dataset import Reviews
from sentiment_app.features.prepare import read_texts
from sentiment_app.models.registry import MODELS, TEXT, get_spec


def parse_args(argv: list[str]) -> argparse.Namespace:
    base = Path(os.environ.get("SAGEMAKER_BASE_DIR", "/opt/ml"))
    p = argparse.ArgumentParser(description="Train a text model (SageMaker script mode).")
    p.add_argument("--model", required=True, choices=sorted(n for n, s in MODELS.items() if s.channel == TEXT))
    known, _ = p.parse_known_args(argv)
    for key, default in get_spec(known.model).hyperparameters.items():
        p.add_argument(f"--{key}", type=type(default), default=default, help=f"{known.model} [{default}]")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--validation-fraction", type=float, default=0.1, help="share of the training data held out")
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads (0 = torch's default)")
    p.add_argument("--model-dir", type=Path, default=Path(os.environ.get("SM_MODEL_DIR", base / "model")))
    p.add_argument("--data-dir", type=Path, default=Path(os.environ.get("SM_CHANNEL_TRAINING", base / "input/data/training")))
    p.add_argument("--validation-dir", type=Path, help="accepted for the contract; not used by the text models")
    return p.parse_args(argv)


def load_text_channel(folder: Path) -> Reviews:
    """Every ``*.csv`` of the channel (``label,text`` rows), in name order."""
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise FileNotFoundError(f"No .csv files in the channel folder {folder}")
    parts = [read_texts(path) for path in files]
    return Reviews([t for p in parts for t in p.texts], np.concatenate([p.labels for p in parts]))


def split_validation(reviews: Reviews, fraction: float, seed: int) -> tuple[Reviews, Reviews]:
    """A stratified, seeded ``(training part, validation part)`` of the training data."""
    fit, val = train_test_split(np.arange(len(reviews)), test_size=fraction, random_state=seed, stratify=reviews.labels)
    pick = lambda idx: Reviews([reviews.texts[i] for i in idx], reviews.labels[idx])  # noqa: E731
    return pick(np.sort(fit)), pick(np.sort(val))


def train_text_model(argv: list[str], data_fingerprint: Callable[[Path], str]) -> dict:
    """Fit, report the validation accuracy, save the artifact folder; ``data_fingerprint`` is the
    entry point's (the same for every family)."""
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    spec = get_spec(args.model)
    hyper = {key: getattr(args, key) for key in spec.hyperparameters}
    reviews = load_text_channel(args.data_dir)
    fit, val = split_validation(reviews, args.validation_fraction, args.seed)
    started = time.perf_counter()
    saved = spec.factory.fit(fit, val, hyper, args.seed).save()
    seconds = time.perf_counter() - started
    print(f"{args.model}: validation accuracy {saved.metrics.get('val_accuracy', float('nan')):.4f}, "
          f"{seconds:.1f} s", flush=True)
    config = {"model": args.model, "hyperparameters": hyper, "state": saved.state,
              "training": {"seed": args.seed, "validation_fraction": args.validation_fraction}}
    metrics = {**saved.metrics, "train_rows": len(fit), "validation_rows": len(val), "seconds": seconds}
    save_model_dir(args.model_dir, saved.tensors, config, saved.vocab, metrics, data_fingerprint(args.data_dir))
    return metrics
