"""Behavioural tests of a sentiment model, in the manner of CheckList (Ribeiro et al., ACL 2020).

Accuracy on long reviews hides how a model treats the short phrases people type ("not bad",
"good, but too long"). Cases come from templates and word lists, seeded, per capability:

* ``negation``: a negated phrase takes the opposite label ("not good" → negative, "never boring" → positive);
* ``contrast``: in "X, but Y" the clause after "but" decides;
* ``intensity``: "really great" must score above "good", "really awful" below "bad";
* ``invariance``: another name, film title or city, or one typo, must not flip the verdict;
* ``direction``: appending "I loved it." must not lower P(positive), "I hated it." must not raise it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from sentiment_app.wire import LABELS

THRESHOLD = 0.5  # as compute_metrics: positive when p >= 0.5
CAPABILITIES = ("negation", "contrast", "intensity", "invariance", "direction")
FAILURES_SHOWN = 5

NEGATIVE, POSITIVE = LABELS
HIGHER, LOWER = "second higher", "second lower"
NOT_LOWER, NOT_HIGHER, SAME = "second not lower", "second not higher", "same verdict"
# What each expectation asks of the probabilities of a case's texts (first, second).
EXPECTATIONS: dict[str, Callable[[np.ndarray], bool]] = {
    POSITIVE: lambda p: p[0] >= THRESHOLD,
    NEGATIVE: lambda p: p[0] < THRESHOLD,
    HIGHER: lambda p: p[1] > p[0],
    LOWER: lambda p: p[1] < p[0],
    NOT_LOWER: lambda p: p[1] >= p[0],
    NOT_HIGHER: lambda p: p[1] <= p[0],
    SAME: lambda p: (p[0] >= THRESHOLD) == (p[1] >= THRESHOLD),
}

ASPECTS = ["performance", "story", "script", "ending", "cast", "soundtrack", "villain"]
NOUNS = ["movie", "film", *ASPECTS, "food", "service", "phone"]
GOOD = ["good", "great", "excellent", "wonderful", "brilliant", "enjoyable", "amazing", "beautiful", "fun"]
BAD = ["bad", "terrible", "awful", "horrible", "poor", "stupid", "disappointing", "dull", "boring"]
MILD_BAD = ["bad", "boring", "dull", "disappointing", "tedious"]  # negated, clearly praise
LIKE = ["like", "love", "enjoy", "recommend"]
DISLIKE = ["hate", "mind", "regret"]
WEAK_GOOD, WEAK_BAD = ["good", "nice", "decent", "fine"], ["bad", "poor", "weak", "mediocre"]
STRONG_GOOD = [f"{a} {w}" for a in ("really", "absolutely", "truly") for w in ("great", "wonderful", "brilliant")]
STRONG_BAD = [f"{a} {w}" for a in ("really", "absolutely", "truly") for w in ("terrible", "awful", "dreadful")]
NAMES = ["John", "Mary", "Ahmed", "Mei", "Carlos", "Priya", "Olga", "Kwame", "Sarah", "Hiroshi"]
TITLES = ["Casablanca", "The Matrix", "Vertigo", "Inception", "Jaws", "Amelie", "Heat", "Alien"]
CITIES = ["Paris", "Chicago", "Lagos", "Mumbai", "Berlin", "Toronto", "Sydney", "Osaka"]


@dataclass(frozen=True)
class Case:
    """One test: one text with an expected label, or two texts with an expected relation."""

    capability: str
    texts: tuple[str, ...]
    expected: str

    def passes(self, probabilities: np.ndarray) -> bool:
        return bool(EXPECTATIONS[self.expected](probabilities))


def _a(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def _pick(rng: np.random.Generator, options: Sequence, k: int) -> list:
    """``k`` distinct options in a seeded random choice, in their original order."""
    return [options[i] for i in sorted(rng.choice(len(options), size=min(k, len(options)), replace=False))]


def _negation(rng: np.random.Generator) -> list[Case]:
    adjective = ["The {n} was not {w}.", "The {n} wasn't {w}.", "The {n} was never {w}.",
                 "I don't think the {n} was {w}.", "It is not {a} {n}."]
    verb = ["I didn't {w} the {n}.", "I did not {w} the {n}.", "I don't {w} this {n}."]
    cases = []
    for template, lists in [*((t, (GOOD, MILD_BAD)) for t in adjective), *((t, (LIKE, DISLIKE)) for t in verb)]:
        for words, label in zip(lists, (NEGATIVE, POSITIVE)):
            for word in words:  # every word under every template, about a random thing
                noun = NOUNS[rng.integers(len(NOUNS))]
                cases.append(Case("negation", (template.format(n=noun, w=word, a=_a(word)),), label))
    return cases


def _contrast(rng: np.random.Generator) -> list[Case]:
    templates = ["The {n} was {x}, but the {m} was {y}.", "It had some {x} moments, but overall it was {y}.",
                 "I expected {ax} {n}, but it was {y}.", "The {n} is {x} but the {m} is {y}."]
    cases = []
    for template in templates:
        for first, second, label in ((GOOD, BAD, NEGATIVE), (BAD, GOOD, POSITIVE)):
            texts = {template.format(n=n, m=m, x=x, y=y, ax=_a(x))
                     for n, m in itertools.permutations(ASPECTS, 2) for x in first for y in second}
            cases += [Case("contrast", (text,), label) for text in _pick(rng, sorted(texts), 8)]
    return cases


def _intensity(rng: np.random.Generator) -> list[Case]:
    cases = []
    for template in ("The {n} was {w}.", "This is {a} {n}."):
        for weak, strong, expected in ((WEAK_GOOD, STRONG_GOOD, HIGHER), (WEAK_BAD, STRONG_BAD, LOWER)):
            for noun, w, s in _pick(rng, list(itertools.product(NOUNS, weak, strong)), 16):
                texts = tuple(template.format(n=noun, w=word, a=_a(word)) for word in (w, s))
                cases.append(Case("intensity", texts, expected))
    return cases


def _typo(rng: np.random.Generator, text: str) -> str:
    """``text`` with two different adjacent letters swapped in one word of four letters or more."""
    words = text.split(" ")
    spots = [(i, j) for i, word in enumerate(words) for j in range(len(word) - 1)
             if len(word) >= 4 and word[j].isalpha() and word[j + 1].isalpha() and word[j] != word[j + 1]]
    i, j = spots[rng.integers(len(spots))]
    words[i] = words[i][:j] + words[i][j + 1] + words[i][j] + words[i][j + 2:]
    return " ".join(words)


def _invariance(rng: np.random.Generator) -> list[Case]:
    templates = ["I watched {t} with {p} in {c}, and it was {w}.", "{p} took me to see {t} in {c}. {W} film!"]
    swaps = {"t": TITLES, "p": NAMES, "c": CITIES}
    cases = []
    for template in templates:
        for words in (GOOD, BAD):
            for title, name, city, word in _pick(rng, list(itertools.product(TITLES, NAMES, CITIES, words)), 5):
                slots = {"t": title, "p": name, "c": city, "w": word, "W": _a(word).capitalize()}
                original = template.format(**slots)
                changed = [template.format(**{**slots, key: str(rng.choice([o for o in options if o != slots[key]]))})
                           for key, options in swaps.items()]
                cases += [Case("invariance", (original, other), SAME) for other in [*changed, _typo(rng, original)]]
    return cases


def _direction(rng: np.random.Generator) -> list[Case]:
    neutral = [f"I watched {t} with {p} in {c}." for t, p, c in itertools.product(TITLES, NAMES, CITIES)]
    opinions = [f"The {n} was {w}." for n, w in itertools.product(NOUNS, GOOD + BAD)]
    cases = []
    for base in _pick(rng, neutral, 16) + _pick(rng, opinions, 24):
        cases += [Case("direction", (base, f"{base} I loved it."), NOT_LOWER),
                  Case("direction", (base, f"{base} I hated it."), NOT_HIGHER)]
    return cases


def build_cases(seed: int = 0) -> list[Case]:
    """Every case, grouped by capability in :data:`CAPABILITIES` order; the same for the same seed."""
    rng = np.random.default_rng(seed)
    return [case for make in (_negation, _contrast, _intensity, _invariance, _direction) for case in make(rng)]


def _failure(case: Case, probabilities: np.ndarray) -> dict:
    return {"texts": list(case.texts), "expected": case.expected, "got": [float(p) for p in probabilities]}


def run_checks(predict_proba: Callable[[list[str]], np.ndarray], cases: Sequence[Case] | None = None) -> dict:
    """Pass rates overall and per capability, with up to five failures each; ``predict_proba`` maps
    texts to P(positive) and is called once per capability with all of its cases' texts in order."""
    cases = build_cases() if cases is None else cases
    report, passed_all = {}, 0
    for capability in CAPABILITIES:
        mine = [case for case in cases if case.capability == capability]
        probabilities = np.asarray(predict_proba([text for case in mine for text in case.texts]), dtype=float)
        split = np.split(probabilities, np.cumsum([len(case.texts) for case in mine])[:-1])
        passed = [case.passes(p) for case, p in zip(mine, split)]
        failures = [_failure(case, p) for case, p, ok in zip(mine, split, passed) if not ok]
        report[capability] = {"cases": len(mine), "pass_rate": float(np.mean(passed)),
                              "failures": failures[:FAILURES_SHOWN]}
        passed_all += sum(passed)
    return {"cases": len(cases), "pass_rate": passed_all / len(cases), "capabilities": report}
