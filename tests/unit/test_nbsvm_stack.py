"""The default family: two negation-aware NBSVMs stacked by input length."""

from __future__ import annotations

import numpy as np

from sentiment_app.data.dataset import Reviews
from sentiment_app.features.soft_labels import SoftLabels
from sentiment_app.models.nbsvm_stack import HYPERPARAMETERS, NBSVMStack, sentence_cuts

GOOD = ["wonderful", "great", "brilliant", "moving", "superb"]
BAD = ["awful", "boring", "dreadful", "stupid", "dull"]
HYPER = {**HYPERPARAMETERS, "hash_bits": 16}


def reviews(n: int, seed: int) -> Reviews:
    """Reviews of a few sentences each, some of them negated ("not great" in a negative review)."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        label = i % 2
        own, other = (GOOD, BAD) if label else (BAD, GOOD)
        parts = [f"The film was {rng.choice(own)}." for _ in range(3)] + [f"It was not {rng.choice(other)} at all."]
        texts.append(" ".join(rng.permutation(parts)))
        labels.append(label)
    return Reviews(texts, np.array(labels, dtype=np.int64))


def fitted() -> NBSVMStack:
    return NBSVMStack.fit(reviews(300, 1), reviews(100, 2), HYPER, seed=1)


def test_sentence_cuts_keep_their_reviews_label_and_the_length_limits() -> None:
    cuts = sentence_cuts(Reviews(["Good. Very very very good indeed! Bad", "Awful film. Dull."], np.array([1, 0])), 2, 3)
    assert cuts.texts == ["Good.", "Awful film.", "Dull."] and cuts.labels.tolist() == [1, 0, 0]


def test_it_learns_words_and_negated_words_and_is_confident_on_both_lengths() -> None:
    model = fitted()
    p = 1 / (1 + np.exp(-model.logits(["The film was superb.", "The film was dull.", "It was not awful at all.",
                                        "It was not brilliant at all.", reviews(2, 9).texts[1]])))
    assert p[0] > 0.8 and p[1] < 0.2 and p[2] > 0.5 and p[3] < 0.5 and p[4] > 0.8
    assert model.metrics["val_accuracy"] > 0.95 and model.metrics["calibration_rows"] > 100


def test_saved_weights_are_the_weights_it_scores_with() -> None:
    model = fitted()
    saved = model.save()
    assert saved.tensors["reviews"].dtype.is_floating_point and saved.tensors["reviews"].element_size() == 2
    restored = NBSVMStack.restore(HYPER, saved)
    texts = reviews(20, 5).texts + ["", "meh"]
    np.testing.assert_array_equal(restored.logits(texts), model.logits(texts))


def test_a_teachers_soft_labels_teach_words_the_labels_never_show() -> None:
    """"marvellous" and "atrocious" occur in no training review; the teacher's sentences carry them."""
    said = [("The film was marvellous.", 0.97), ("A marvellous cast.", 0.9), ("The film was atrocious.", 0.03),
            ("An atrocious plot.", 0.1)] * 20
    teacher = SoftLabels([t for t, _ in said], np.array([p for _, p in said], np.float32), np.ones(len(said), bool))
    plain = fitted()
    taught = NBSVMStack.fit(reviews(300, 1), reviews(100, 2), HYPER, seed=1, teacher=teacher)
    probe = ["It was marvellous.", "It was atrocious."]
    assert abs(plain.logits(probe)).max() < 0.5
    z = taught.logits(probe)
    assert z[0] > 1 and z[1] < -1 and taught.metrics["teacher_rows"] == len(said)
    assert taught.metrics["val_accuracy"] > 0.95
