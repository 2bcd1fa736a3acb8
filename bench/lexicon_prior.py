"""Experiment: VADER's lexicon score as a third input of the default's length stack.

    python bench/lexicon_prior.py --data ../shared/data

VADER (Hutto & Gilbert 2014; the ``vaderSentiment`` package, MIT) scores a text from a 7,519-word
lexicon with rules for negation, intensity and "but": prior knowledge the IMDB labels cannot
teach. Here ``nbsvm-stack``'s members are fitted on the movie-grouped fit part; its combiner is
fitted on the validation part's calibration set twice, on ``[z_r, z_s, z_r·g, z_s·g, g]`` as
shipped and with VADER's compound score ``v`` and ``v·g`` added. Printed for both: validation
accuracy, the yelp and amazon sentences (the default's rule), the behavioural pass rates, and
VADER's own cost per input. Needs ``pip install 'sentiment-app[bench]'``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from sentiment_app.data.dataset import load_imdb, split_by_movie
from sentiment_app.evaluation.behaviour import run_checks
from sentiment_app.evaluation.short import load_short
from sentiment_app.features.ngrams import NgramHasher
from sentiment_app.features.tokens import clean_text
from sentiment_app.models.nbsvm_stack import HYPERPARAMETERS, Members, NBSVMStack

SEED = 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    args = parser.parse_args()
    hyper = HYPERPARAMETERS
    fit, val = split_by_movie(load_imdb(args.data)["train"], 0.1, SEED)
    hasher = NgramHasher(hyper["ngram_max"], hyper["hash_bits"], negation=True)
    members = Members.fit(hasher, fit, hyper, SEED)
    calibration = NBSVMStack.calibration_set(hasher, members, val, hyper)
    vader = SentimentIntensityAnalyzer()

    def lexicon(texts: list[str]) -> np.ndarray:
        return np.array([vader.polarity_scores(clean_text(t))["compound"] for t in texts])

    def features(texts: list[str], with_lexicon: bool) -> np.ndarray:
        x = members.scores(hasher, texts)
        if not with_lexicon:
            return x
        v = lexicon(texts)
        return np.column_stack([x, v, v * x[:, 4]])

    short = load_short(args.data)
    started = time.perf_counter()
    lexicon(short["yelp"].texts[:500])
    per_sentence = (time.perf_counter() - started) / 500
    started = time.perf_counter()
    lexicon(val.texts[:200])
    per_review = (time.perf_counter() - started) / 200
    print(f"VADER: {per_sentence * 1000:.3f} ms a sentence, {per_review * 1000:.2f} ms a review\n")
    print("| combiner | validation | short yelp / amazon | negation | invariance | all checks |\n|---|---|---|---|---|---|")
    for with_lexicon in (False, True):
        lr = LogisticRegression(max_iter=5000).fit(features(calibration.texts, with_lexicon), calibration.labels)
        predict = lambda texts: lr.predict_proba(features(list(texts), with_lexicon))[:, 1]  # noqa: E731
        accuracy = float(np.mean((predict(val.texts) >= 0.5) == (val.labels == 1)))
        yelp, amazon = (float(np.mean((predict(short[k].texts) >= 0.5) == (short[k].labels == 1)))
                        for k in ("yelp", "amazon"))
        checks = run_checks(predict)
        rates = {name: r["pass_rate"] for name, r in checks["capabilities"].items()}
        print(f"| {'with VADER' if with_lexicon else 'as shipped'} | {accuracy:.4f} | {yelp:.3f} / {amazon:.3f} | "
              f"{rates['negation']:.1%} | {rates['invariance']:.1%} | {checks['pass_rate']:.1%} |")


if __name__ == "__main__":
    main()
