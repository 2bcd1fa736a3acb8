"""The entry point's path for the text models (``train.py --family nbsvm --C 0.1 ...``).

Same SageMaker contract as the original recipe: hyperparameters as arguments (the model's own,
from the registry; anything else is refused), the ``label,text`` channel from
``SM_CHANNEL_TRAINING``, artifacts to ``SM_MODEL_DIR``. A seeded share of the training data is
held out for the model's own choices (early stopping, ensemble weight): whole movies when the
channel names them (``label,text,movie`` rows), so it scores like unseen films; the validation
channel (the test set in the local pipeline) is never read here. The channel's ``extra.csv``
(extra labeled reviews, e.g. exported feedback) joins the fitted part after the split: never held out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from sentiment_app.models.metric_log import metric_line
from sentiment_app.artifacts.model_dir import load_model_dir, save_model_dir
from sentiment_app.data.dataset import Reviews, concatenate, split_by_movie
from sentiment_app.errors import ArtifactError
from sentiment_app.features.prepare import EXTRA_FILE, extra_record, read_texts
from sentiment_app.features.soft_labels import TEACHER_CHANNEL, TEACHER_FILE, read_soft_labels
from sentiment_app.models.registry import ENCODER_CHANNEL, get_spec
from sentiment_app.models.text_model import Saved
from sentiment_app.training.arguments import hyperparameters, inputs, parse_args


def load_text_channel(folder: Path) -> Reviews:
    """Every ``*.csv`` of the channel (``label,text[,movie]`` rows) but ``extra.csv``, in name order."""
    files = [path for path in sorted(folder.glob("*.csv")) if path.name != EXTRA_FILE]
    if not files:
        raise FileNotFoundError(f"No .csv files in the channel folder {folder}")
    return concatenate([read_texts(path) for path in files])


def read_inputs(channels: dict[str, Path]) -> dict[str, Any]:
    """The optional channels as ``fit`` takes them: the teacher's soft labels, a fine-tuned encoder."""
    loaded: dict[str, Any] = {}
    if TEACHER_CHANNEL in channels:
        loaded[TEACHER_CHANNEL] = read_soft_labels(channels[TEACHER_CHANNEL] / TEACHER_FILE)
    if ENCODER_CHANNEL in channels:
        artifacts = load_model_dir(channels[ENCODER_CHANNEL])
        if artifacts.config.get("model") != ENCODER_CHANNEL:
            raise ArtifactError(f"{channels[ENCODER_CHANNEL]} holds a {artifacts.config.get('model')!r} model, "
                                "not an encoder")
        saved = Saved(artifacts.state_dict, artifacts.vocab, artifacts.config.get("state", {}), artifacts.metrics)
        loaded[ENCODER_CHANNEL] = get_spec(ENCODER_CHANNEL).factory.restore(artifacts.config["hyperparameters"], saved)
    return loaded


def train_text_model(argv: list[str], data_fingerprint: Callable[[Path], str]) -> dict:
    """Fit, report the validation accuracy, save the artifact folder; ``data_fingerprint`` is the
    entry point's (the same for every family)."""
    args = parse_args(argv, "Train a text model (SageMaker script mode).")
    if args.threads:
        torch.set_num_threads(args.threads)
    spec = get_spec(args.family)
    hyper = hyperparameters(args)
    reviews = load_text_channel(args.data_dir)
    fit, val = split_by_movie(reviews, args.validation_fraction, args.seed)
    extra = extra_record(args.data_dir)
    if extra:
        fit = concatenate([fit, read_texts(args.data_dir / EXTRA_FILE)])
    started = time.perf_counter()
    channels = inputs(args)
    saved = spec.factory.fit(fit, val, hyper, args.seed, **read_inputs(channels)).save()
    seconds = time.perf_counter() - started
    print(metric_line(args.family, val_accuracy=saved.metrics.get("val_accuracy", float("nan")))
          + f", seconds: {seconds:.1f}", flush=True)
    config = {"model": args.family, "hyperparameters": hyper, "state": saved.state,
              "training": {"seed": args.seed, "validation_fraction": args.validation_fraction}}
    metrics = {**saved.metrics, "train_rows": len(fit), "validation_rows": len(val), "seconds": seconds,
               "extra_data": extra, "inputs": {name: data_fingerprint(path) for name, path in channels.items()}}
    save_model_dir(args.model_dir, saved.tensors, config, saved.vocab, metrics, data_fingerprint(args.data_dir))
    return metrics
