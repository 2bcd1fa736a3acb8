"""Rebuild a model bundled in the package (src/sentiment_app/resources/bundled/<model>).

Runs the project's own pipeline for ``--family`` (default: the registry's ``DEFAULT_MODEL``, with
its default hyperparameters; ``lstm-seed`` is the original recipe) on the full official split, then
copies the verified model directory into the package and writes its model card from the measured
metrics:

    .venv/bin/python scripts/build_default_model.py --data ../shared/data [--family NAME] [--home DIR]
                     [--hp KEY=VALUE ...] [--teacher MODEL] [--encoder MODEL] | [--model MODEL_DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
from datetime import date
from pathlib import Path

from sentiment_app.artifacts.model_dir import load_model_dir
from sentiment_app.artifacts.locate import bundled_model_dir
from sentiment_app.models.registry import DEFAULT_MODEL, MODELS, ROWS
from sentiment_app.pipeline import (DataOptions, Hyperparameters, evaluate, family_inputs, load_splits, run_pipeline,
                                    short_folder)
from sentiment_app.settings import load_settings

CARD = """# Bundled model card: `{name}` (version {version})

The model `sentiment-app serve` uses when no trained model exists in the home folder, so a fresh
machine gets a working page without the data set. Rebuild it with
`.venv/bin/python scripts/build_default_model.py --data ../shared/data --family {name}`.

| | |
|---|---|
| Model | `{name}`: {description} ({hyper}) |
| Data | IMDB Large Movie Review Dataset v1.0, official split: {train_rows:,} training reviews (shuffled, seed {seed}); evaluated on all 25,000 test reviews |
| Features | {features} |
| Training | {training} |
| Test accuracy | {accuracy:.4f} |
| Precision / recall / F1 | {precision:.4f} / {recall:.4f} / {f1:.4f} |
| ROC AUC | {roc_auc:.4f} |
| Confusion matrix [[tn, fp], [fn, tp]] | {confusion_matrix} |
| Short sentences, accuracy (imdb / yelp / amazon / mean) | {short} |
| Behavioural checks, pass rate | {behaviour} |
| Calibration error (ECE, 10 bins): IMDB test / short sentences | {ece} |
| Weights sha256 | `{sha256}` |
| Data fingerprint | `{fingerprint}` |
| Built | {built} |

Chosen as the default by the rule in docs/models.md: the best mean of validation accuracy
(movie-grouped), accuracy on the yelp and amazon sentences and the behavioural pass rate, among
the families that answer one review in at most 5 ms (p50) with an artifact of at most 100 MB.
The imdb sentences come from test reviews, so they are reported, never used to choose.

Limits: trained on English movie reviews only; sarcasm and negated negatives ("not bad") are often misread.{limits}
"""
SEED_FEATURES = ("HTML stripped, lower-cased, non-alphanumerics removed, NLTK English stopwords removed, Porter "
                 "stems; dictionary of {vocab_size} (0 = padding, 1 = infrequent word); reviews padded/truncated to {pad}")
SEED_TRAINING = "{epochs} epochs, batch {batch_size}, Adam (lr {lr}), BCE loss, seed {seed}; CPU"
SEED_LIMITS = ' Stopword removal drops "not" and "no", so negation is largely invisible to it.'
TEXT_FEATURES = ('HTML stripped, lower-cased words and numbers as written (no stopword removal, no stemming), '
                 '"n\'t" split off, every punctuation mark a token of its own')
ENCODER_FEATURES = (TEXT_FEATURES + ' (the n-gram members); all-MiniLM-L6-v2\'s lower-cased WordPiece tokens, at most '
                    '{max_tokens} a text as its first {head_tokens} and its last ones (the encoder)')
ENCODER_TRAINING = "; the encoder was fine-tuned before on the same training part ({seconds:.0f} s) and reused"
TEXT_TRAINING = ("fitted on {fit_rows:,} reviews; {validation_rows:,} ({share:.0%} by whole movies, seed {seed}) held out "
                 "for the family's own choices (early stopping, ensemble weight, stacking); the test set took no part; "
                 "CPU, {seconds:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="Local IMDB data (archive, aclImdb/ or CSV pair).")
    parser.add_argument("--home", help="Home for the store, jobs and models [SENTIMENT_APP_HOME].")
    parser.add_argument("--family", choices=sorted(MODELS), default=DEFAULT_MODEL, help=f"[{DEFAULT_MODEL}]")
    parser.add_argument("--hp", action="append", default=[], metavar="KEY=VALUE", help="a hyperparameter (repeatable)")
    parser.add_argument("--teacher", help="a teacher model whose soft labels the family learns from")
    parser.add_argument("--encoder", help="a fine-tuned encoder the family reuses")
    parser.add_argument("--model", type=Path, help="bundle this model folder, trained before, instead of training one")
    args = parser.parse_args()
    settings = load_settings(home=args.home, data=args.data)
    if args.model:
        test = load_splits(settings, DataOptions())["test"]
        metrics = evaluate(args.model, test, args.model.parent / "evaluation", short_folder(settings))
    else:
        params = tuple(tuple(value.split("=", 1)) for value in args.hp)
        inputs = family_inputs(settings, DataOptions(), args.family, args.teacher, args.encoder)
        metrics = run_pipeline(settings, DataOptions(), Hyperparameters(args.family, params=params), inputs=inputs)
    source = Path(metrics["model_dir"])
    name = load_model_dir(source).config["model"]
    target = bundled_model_dir(name)
    artifacts = load_model_dir(source)  # verifies every checksum before anything is copied
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    config, training, fitted = artifacts.config, artifacts.config["training"], artifacts.metrics
    if MODELS[name].channel == ROWS:
        features = SEED_FEATURES.format(vocab_size=config["hyperparameters"]["vocab_size"], pad=config["pad"])
        recipe, limits, train_rows = SEED_TRAINING.format(**training), SEED_LIMITS, fitted["train_rows"]
    else:
        features, limits = TEXT_FEATURES, ""
        train_rows = fitted["train_rows"] + fitted["validation_rows"]
        recipe = TEXT_TRAINING.format(fit_rows=fitted["train_rows"], validation_rows=fitted["validation_rows"],
                                      share=training["validation_fraction"], seed=training["seed"],
                                      seconds=fitted["seconds"])
        if "encoder_hyperparameters" in config.get("state", {}):  # a stack with an encoder member
            features = ENCODER_FEATURES.format(**config["state"]["encoder_hyperparameters"])
            if "seconds" in fitted.get("encoder", {}):
                recipe += ENCODER_TRAINING.format(seconds=fitted["encoder"]["seconds"])
    (target / "MODEL_CARD.md").write_text(CARD.format(
        name=config["model"], version=artifacts.version, hyper=json.dumps(config["hyperparameters"]),
        description=MODELS[name].description, features=features, training=recipe, limits=limits,
        train_rows=train_rows, seed=training["seed"], sha256=artifacts.manifest["files"]["model.safetensors"],
        fingerprint=artifacts.manifest["data_fingerprint"], built=date.today().isoformat(),
        **{k: metrics[k] for k in ("accuracy", "precision", "recall", "f1", "roc_auc", "confusion_matrix")},
        short=" / ".join(f"{v:.3f}" for v in metrics["short"].values()) if metrics["short"] else "not measured",
        behaviour=", ".join(f"{name} {r['pass_rate']:.1%}" for name, r in metrics["behaviour"]["capabilities"].items()),
        ece=" / ".join(f"{v:.3f}" for v in metrics["calibration_error"].values()),
    ))
    print(f"bundled {config['model']} {artifacts.version} (test accuracy {metrics['accuracy']:.4f}) into {target}")


if __name__ == "__main__":
    main()
