"""The whole chain: data → features → training job → batch-transform evaluation → report.

Each step is a plain function over plain data and is skipped when its cached output is current:
features are keyed by the data's content and settings, the training job by the data and
hyperparameters, the evaluation by the model's weights.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sentiment_app.data.dataset import Reviews, load_imdb, shuffled, stratified_sample
from sentiment_app.data.download import download_imdb
from sentiment_app.evaluation.metrics import compute_metrics
from sentiment_app.evaluation.report import write_report
from sentiment_app.features.prepare import FeatureSettings, PreparedData, prepare_features, prepare_text
from sentiment_app.errors import SentimentAppError
from sentiment_app.fileio import atomic_open, atomic_write_bytes
from sentiment_app.inference.batch_transform import transform_file
from sentiment_app.inference.model import SentimentModel
from sentiment_app.models.registry import ROWS, SEED_MODEL, TEXT, ModelChoiceError, get_spec, resolve_hyperparameters
from sentiment_app.settings import Settings
from sentiment_app.store import open_store
from sentiment_app.training.job import TrainingJob, run_training_job


@dataclass(frozen=True)
class Hyperparameters:
    """The training recipe; defaults are the original project's (``lstm-seed``).

    ``params`` are a text model's own hyperparameters (``--hp key=value``); the other fields after
    ``model`` and ``seed`` are the original recipe's."""

    model: str = SEED_MODEL
    epochs: int = 10
    batch_size: int = 512
    seed: int = 1
    embedding_dim: int = 32
    hidden_dim: int = 100
    vocab_size: int = 5000
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def channel(self) -> str:
        return get_spec(self.model).channel

    def as_args(self) -> dict[str, Any]:
        """Names as the entry point spells them (``batch-size`` keeps the original's hyphen)."""
        if self.channel == TEXT:
            return {"model": self.model, "seed": self.seed, **resolve_hyperparameters(self.model, dict(self.params))}
        if self.params:
            raise ModelChoiceError(f"{self.model} takes no --hp; its settings are --epochs, --batch-size, "
                                   "--embedding-dim, --hidden-dim, --vocab-size")
        values = dict(self.__dict__)
        values.pop("params")
        values["batch-size"] = values.pop("batch_size")
        return values


@dataclass
class DataOptions:
    max_reviews: int | None = None
    seed: int = 1
    features: FeatureSettings = field(default_factory=FeatureSettings)


def load_splits(settings: Settings, options: DataOptions) -> dict[str, Reviews]:
    """Both splits, sampled when asked and shuffled (the files are sorted by label)."""
    path = settings.data or download_imdb(settings.downloads)
    splits = load_imdb(path)
    if options.max_reviews:
        splits = {name: stratified_sample(r, options.max_reviews, options.seed) for name, r in splits.items()}
    return {name: shuffled(r, options.seed) for name, r in splits.items()}


def prepare(settings: Settings, options: DataOptions, splits: dict[str, Reviews] | None = None,
            channel: str = ROWS) -> PreparedData:
    """The encoded channel of ``lstm-seed`` (``rows``) or the text models' ``label,text`` one."""
    splits = splits or load_splits(settings, options)
    if channel == TEXT:
        return prepare_text(open_store(settings.store), splits)
    return prepare_features(open_store(settings.store), splits, options.features)


def train(settings: Settings, prepared: PreparedData, hyper: Hyperparameters, nproc_per_node: int = 1) -> TrainingJob:
    if hyper.channel == TEXT and nproc_per_node > 1:
        raise ModelChoiceError(f"{hyper.model} trains in one process; --nproc-per-node is for lstm-seed")
    if hyper.channel != prepared.kind:
        raise ValueError(f"{hyper.model} reads the {hyper.channel} channel, not {prepared.kind}")
    if hyper.channel == ROWS and hyper.vocab_size != prepared.vocab_size:
        raise ValueError(f"vocab_size {hyper.vocab_size} differs from the prepared data's {prepared.vocab_size}")
    return run_training_job(settings, open_store(settings.store), prepared, hyper.as_args(), nproc_per_node)


def write_review_lines(path: Path, texts: list[str]) -> Path:
    """One review per line (line breaks inside a review become spaces): the batch-transform input."""
    with atomic_open(path, "w") as f:
        f.writelines(text.replace("\n", " ").replace("\r", " ") + "\n" for text in texts)
    return path


def evaluate(model_dir: Path, test: Reviews, out_dir: Path) -> dict[str, Any]:
    """Batch-transform the raw test reviews through the serving path, then score and report.

    Cached in ``out_dir/metrics.json`` for this model version and test set."""
    model = SentimentModel.load(model_dir)
    cache = out_dir / "metrics.json"
    key = {"model_version": model.version, "test_fingerprint": test.fingerprint()}
    if cache.exists():
        cached = json.loads(cache.read_text())
        if all(cached.get(k) == v for k, v in key.items()):
            return cached
    out_dir.mkdir(parents=True, exist_ok=True)
    source = write_review_lines(out_dir / "test_reviews.txt", test.texts)
    if errors := transform_file(model, source, source.with_name(source.name + ".out")):
        raise SentimentAppError(f"{errors} test reviews could not be scored; see {source}.out")
    with open(source.with_name(source.name + ".out"), encoding="utf-8") as f:
        probabilities = np.array([json.loads(line)["probability"] for line in f], dtype=np.float64)
    metrics = compute_metrics(test.labels, probabilities)
    report = write_report(out_dir, metrics, model.metrics.get("history", []), test.labels, probabilities,
                          title=f"{model.name} {model.version}")
    result = {**metrics, **key, "model_dir": str(model_dir), "report": str(report)}
    atomic_write_bytes(cache, json.dumps(result, indent=2).encode())
    return result


def run_pipeline(settings: Settings, options: DataOptions, hyper: Hyperparameters,
                 nproc_per_node: int = 1) -> dict[str, Any]:
    splits = load_splits(settings, options)
    prepared = prepare(settings, options, splits, hyper.channel)
    job = train(settings, prepared, hyper, nproc_per_node)
    return evaluate(job.model_dir, splits["test"], job.job_dir / "evaluation")
