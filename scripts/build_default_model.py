"""Rebuild the model bundled in the package (src/sentiment_app/resources/default_model).

Runs the project's own pipeline with the original recipe on the full official split, then copies
the verified model directory into the package and writes its model card from the measured metrics:

    .venv/bin/python scripts/build_default_model.py --data ../shared/data [--home DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
from datetime import date
from pathlib import Path

from sentiment_app.artifacts import load_model_dir
from sentiment_app.model_dirs import bundled_model_dir
from sentiment_app.pipeline import DataOptions, Hyperparameters, run_pipeline
from sentiment_app.settings import load_settings

CARD = """# Bundled model card: `{name}` (version {version})

The model `sentiment-app serve` uses when no trained model exists in the home folder, so a fresh
machine gets a working page without the data set. Rebuild it with
`.venv/bin/python scripts/build_default_model.py --data ../shared/data`.

| | |
|---|---|
| Model | `{name}`: the original project's LSTMClassifier ({hyper}) |
| Data | IMDB Large Movie Review Dataset v1.0, official split: {train_rows:,} training reviews (shuffled, seed {seed}); evaluated on all 25,000 test reviews |
| Features | HTML stripped, lower-cased, non-alphanumerics removed, NLTK English stopwords removed, Porter stems; dictionary of {vocab_size} (0 = padding, 1 = infrequent word); reviews padded/truncated to {pad} |
| Training | {epochs} epochs, batch {batch_size}, Adam (lr {lr}), BCE loss, seed {seed}; CPU |
| Test accuracy | {accuracy:.4f} |
| Precision / recall / F1 | {precision:.4f} / {recall:.4f} / {f1:.4f} |
| ROC AUC | {roc_auc:.4f} |
| Confusion matrix [[tn, fp], [fn, tp]] | {confusion_matrix} |
| Weights sha256 | `{sha256}` |
| Data fingerprint | `{fingerprint}` |
| Built | {built} |

Limits: trained on English movie reviews only; stopword removal drops "not" and "no", so negation
is largely invisible to it; short or sarcastic texts are often misread.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="Local IMDB data (archive, aclImdb/ or CSV pair).")
    parser.add_argument("--home", help="Home for the store, jobs and models [SENTIMENT_APP_HOME].")
    args = parser.parse_args()
    settings = load_settings(home=args.home, data=args.data)
    metrics = run_pipeline(settings, DataOptions(), Hyperparameters())
    source, target = Path(metrics["model_dir"]), bundled_model_dir()
    artifacts = load_model_dir(source)  # verifies every checksum before anything is copied
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    config, training = artifacts.config, artifacts.config["training"]
    (target / "MODEL_CARD.md").write_text(CARD.format(
        name=config["model"], version=artifacts.version, hyper=json.dumps(config["hyperparameters"]),
        train_rows=artifacts.metrics["train_rows"], vocab_size=config["hyperparameters"]["vocab_size"],
        pad=config["pad"], sha256=artifacts.manifest["files"]["model.safetensors"],
        fingerprint=artifacts.manifest["data_fingerprint"], built=date.today().isoformat(),
        **training, **{k: metrics[k] for k in ("accuracy", "precision", "recall", "f1", "roc_auc", "confusion_matrix")},
    ))
    print(f"bundled {config['model']} {artifacts.version} (test accuracy {metrics['accuracy']:.4f}) into {target}")


if __name__ == "__main__":
    main()
