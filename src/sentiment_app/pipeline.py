"""The whole chain: data → features → training job → model registry → batch-transform evaluation → report.

Each step is a plain function over plain data and is skipped when its cached output is current:
features are keyed by the data's content and settings, the training job by the data and
hyperparameters, the evaluation by the model's weights.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from sentiment_app.artifacts.versions import evaluation_figures, record_metrics, register
from sentiment_app.artifacts.locate import resolve_model_dir
from sentiment_app.artifacts.model_dir import ARTIFACT_FILES, MANIFEST, load_model_dir
from sentiment_app.data.dataset import Reviews, load_imdb, load_unsup, shuffled, stratified_sample
from sentiment_app.data.download import download_imdb
from sentiment_app.evaluation.behaviour import run_checks
from sentiment_app.evaluation.calibration import reliability
from sentiment_app.evaluation.metrics import compute_metrics
from sentiment_app.evaluation.report import write_report
from sentiment_app.evaluation.short import FOLDER as SHORT_FOLDER
from sentiment_app.evaluation.short import short_accuracy
from sentiment_app.features.prepare import (EXTRA, FeatureSettings, PreparedData, prepare_features, prepare_text,
                                            read_texts)
from sentiment_app.errors import DataError, SentimentAppError
from sentiment_app.fileio import atomic_open, atomic_write_bytes, storage_error
from sentiment_app.inference.batch_transform import transform_file
from sentiment_app.inference.model import SentimentModel
from sentiment_app.features.soft_labels import TEACHER_CHANNEL, TEACHER_FILE
from sentiment_app.models.registry import (ENCODER_CHANNEL, MODELS, ROWS, SEED_MODEL, TEXT, ModelChoiceError, get_spec,
                                           resolve_hyperparameters)
from sentiment_app.settings import Settings
from sentiment_app.store import open_store
from sentiment_app.training.job import Channels, TrainingJob, run_training_job
from sentiment_app.training.teacher import TransferSettings, build_teacher_labels


EVALUATION_VERSION = 2  # what an evaluation computes; a cached one of another version is redone


@dataclass(frozen=True)
class Hyperparameters:
    """The training recipe: a model family, the seed, and the hyperparameters given for it
    (``params``); every other hyperparameter is the family's default in the model registry."""

    family: str = SEED_MODEL
    seed: int = 1
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def channel(self) -> str:
        return get_spec(self.family).channel

    def resolve(self) -> dict[str, Any]:
        """Every hyperparameter of the family; unknown or unparsable ones are refused here."""
        return resolve_hyperparameters(self.family, dict(self.params))

    def as_args(self) -> dict[str, Any]:
        """The entry point's arguments, dashed as it spells them (and SageMaker passes them)."""
        dashed = {key.replace("_", "-"): value for key, value in self.resolve().items()}
        return {"family": self.family, "seed": self.seed, **dashed}


@dataclass
class DataOptions:
    max_reviews: int | None = None
    seed: int = 1
    features: FeatureSettings = field(default_factory=FeatureSettings)
    extra_data: Path | None = None  # labeled reviews added to the training split (``label,text`` rows)


def load_splits(settings: Settings, options: DataOptions) -> dict[str, Reviews]:
    """Both splits, sampled when asked and shuffled (the files are sorted by label)."""
    if settings.data_remembered and not settings.data.exists():  # type: ignore[union-attr]
        raise DataError(f"This home was prepared from {settings.data}, which is no longer there (moved or "
                        "deleted?); pass --data PATH (or set SENTIMENT_APP_DATA).")
    splits = load_imdb(data_path(settings))
    if options.max_reviews:
        splits = {name: stratified_sample(r, options.max_reviews, options.seed) for name, r in splits.items()}
    return {name: shuffled(r, options.seed) for name, r in splits.items()}


def data_path(settings: Settings) -> Path:
    """The data setting, else the downloaded archive (downloaded now if need be)."""
    return settings.data or download_imdb(settings.downloads)


def remember_data(settings: Settings) -> None:
    """Once a home is prepared from some data, later commands find it without ``--data``."""
    if settings.data_remembered:
        return
    try:
        atomic_write_bytes(settings.data_record, json.dumps({"data": str(data_path(settings))}).encode())
    except OSError as exc:
        raise storage_error(settings.data_record, exc) from exc


def extra_reviews(path: Path) -> Reviews:
    """Extra labeled reviews for the training split: ``label,text`` rows, as ``feedback export`` writes them."""
    reviews = read_texts(path)
    if not len(reviews):
        raise DataError(f"{path} holds no reviews: expected label,text rows (see `sentiment-app feedback export`).")
    return reviews


def prepare(settings: Settings, options: DataOptions, splits: dict[str, Reviews] | None = None,
            channel: str = ROWS) -> PreparedData:
    """The encoded channel of ``lstm-seed`` (``rows``) or the text models' ``label,text`` one, with
    ``options.extra_data`` (if any) in the training channel only."""
    splits = splits or load_splits(settings, options)
    if options.extra_data:
        splits = {**splits, EXTRA: extra_reviews(options.extra_data)}
    if channel == TEXT:
        prepared = prepare_text(open_store(settings.store), splits)
    else:
        prepared = prepare_features(open_store(settings.store), splits, options.features)
    remember_data(settings)
    return prepared


def teacher_labels(settings: Settings, options: DataOptions, teacher: str | Path) -> str:
    """The store key of ``teacher``'s soft labels of the unlabeled reviews (a seeded sample of
    ``options.max_reviews`` of them when set), built now with a progress bar unless the store has
    them for this teacher, data and settings."""
    model = SentimentModel.load(resolve_model_dir(settings, teacher))
    unlabeled = load_unsup(data_path(settings))
    if options.max_reviews and options.max_reviews < len(unlabeled):
        picked = np.random.default_rng(options.seed).permutation(len(unlabeled))[: options.max_reviews]
        unlabeled = [unlabeled[i] for i in np.sort(picked)]
    transfer = TransferSettings(seed=options.seed)
    with tempfile.TemporaryDirectory() as work:
        key, _ = build_teacher_labels(open_store(settings.store), model.predict_proba, model.version, unlabeled,
                                      transfer, Path(work) / TEACHER_FILE)
    return key


def model_input(settings: Settings, model: str | Path, family: str) -> dict[str, str]:
    """A trained model of ``family``, its files copied to the store (keyed by its version): a channel's content."""
    model_dir = resolve_model_dir(settings, model)
    artifacts = load_model_dir(model_dir)
    if artifacts.config.get("model") != family:
        raise ModelChoiceError(f"{model} holds a {artifacts.config.get('model')!r} model, not an {family}")
    version = artifacts.version
    store = open_store(settings.store)
    files = {}
    for name in (*ARTIFACT_FILES, MANIFEST):
        files[name] = f"inputs/models/{version}/{name}"
        if not store.exists(files[name]):
            store.put_file(files[name], model_dir / name)
    return files


def family_inputs(settings: Settings, options: DataOptions, family: str, teacher: str | None = None,
                  encoder: str | None = None) -> Channels:
    """The optional channels given for ``family``: the teacher's soft labels, a fine-tuned encoder."""
    given = {TEACHER_CHANNEL: teacher, ENCODER_CHANNEL: encoder}
    if refused := [name for name, value in given.items() if value and name not in get_spec(family).inputs]:
        raise ModelChoiceError(f"{family} takes no {refused[0]} (families that do: "
                               f"{', '.join(n for n, s in MODELS.items() if refused[0] in s.inputs)})")
    inputs: Channels = {}
    if teacher:
        inputs[TEACHER_CHANNEL] = {TEACHER_FILE: teacher_labels(settings, options, teacher)}
    if encoder:
        inputs[ENCODER_CHANNEL] = model_input(settings, encoder, "encoder")
    return inputs


def train(settings: Settings, prepared: PreparedData, hyper: Hyperparameters, nproc_per_node: int = 1,
          inputs: Channels | None = None) -> TrainingJob:
    if hyper.channel == TEXT and nproc_per_node > 1:
        raise ModelChoiceError(f"{hyper.family} trains in one process; --nproc-per-node is for lstm-seed")
    if hyper.channel != prepared.kind:
        raise ValueError(f"{hyper.family} reads the {hyper.channel} channel, not {prepared.kind}")
    if hyper.channel == ROWS:  # the network's vocabulary is the prepared dictionary's
        hyper = replace(hyper, params=(*hyper.params, ("vocab_size", prepared.vocab_size)))
    job = run_training_job(settings, open_store(settings.store), prepared, hyper.as_args(), nproc_per_node, inputs)
    register(settings, job.model_dir)  # pending approval: nothing serves it by default yet
    return job


def write_review_lines(path: Path, texts: list[str]) -> Path:
    """One review per line (line breaks inside a review become spaces): the batch-transform input."""
    with atomic_open(path, "w") as f:
        f.writelines(text.replace("\n", " ").replace("\r", " ") + "\n" for text in texts)
    return path


def short_folder(settings: Settings) -> Path | None:
    """The data folder that holds the short sentences (``short/``), if the data setting has one."""
    if settings.data is None:
        return None
    folder = settings.data if settings.data.is_dir() else settings.data.parent
    return folder if (folder / SHORT_FOLDER).is_dir() else None


def evaluate(model_dir: Path, test: Reviews, out_dir: Path, short_data: Path | None = None) -> dict[str, Any]:
    """Batch-transform the raw test reviews through the serving path, then score and report, with
    what users meet: the short sentences (when ``short_data`` holds them), the behavioural checks and
    calibration. Cached in ``out_dir/metrics.json`` for this model version and test set."""
    model = SentimentModel.load(model_dir)
    cache = out_dir / "metrics.json"
    key = {"model_version": model.version, "test_fingerprint": test.fingerprint(),
           "evaluation_version": EVALUATION_VERSION, "short_data": str(short_data) if short_data else None}
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
    short = short_accuracy(model.predict_proba, short_data) if short_data else None
    behaviour = run_checks(model.predict_proba)
    ece = {"imdb_test": reliability(test.labels, probabilities).ece}
    if short:
        ece["short"] = reliability(short.labels, short.probabilities).ece
    report = write_report(out_dir, metrics, model.metrics.get("history", []), test.labels, probabilities,
                          title=f"{model.name} {model.version}", calibration=True, short=short, behaviour=behaviour)
    result = {**metrics, **key, "short": short.accuracy if short else None, "calibration_error": ece,
              "behaviour": behaviour, "model_dir": str(model_dir), "report": str(report)}
    atomic_write_bytes(cache, json.dumps(result, indent=2).encode())
    return result


def run_pipeline(settings: Settings, options: DataOptions, hyper: Hyperparameters,
                 nproc_per_node: int = 1, inputs: Channels | None = None) -> dict[str, Any]:
    """The evaluation's result, recorded on the new model's registry version (``version``)."""
    splits = load_splits(settings, options)
    prepared = prepare(settings, options, splits, hyper.channel)
    job = train(settings, prepared, hyper, nproc_per_node, inputs)
    result = evaluate(job.model_dir, splits["test"], job.job_dir / "evaluation", short_folder(settings))
    return {**result, "version": record_metrics(settings, job.model_dir, evaluation_figures(result))["version"]}
