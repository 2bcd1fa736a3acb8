"""The behavioural suite: its cases, and pass rates checked against predictors whose answers are known."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection

import numpy as np
import pytest

from sentiment_app.evaluation.behaviour import (
    BAD,
    CAPABILITIES,
    GOOD,
    HIGHER,
    LOWER,
    NEGATIVE,
    NOT_HIGHER,
    NOT_LOWER,
    POSITIVE,
    SAME,
    Case,
    build_cases,
    run_checks,
)

# Probabilities (first text, second text) that meet each expectation, and ones that break it.
RIGHT = {POSITIVE: [0.9], NEGATIVE: [0.1], HIGHER: [0.6, 0.9], LOWER: [0.4, 0.1], NOT_LOWER: [0.5, 0.7],
         NOT_HIGHER: [0.5, 0.3], SAME: [0.8, 0.8]}
WRONG = {POSITIVE: [0.1], NEGATIVE: [0.9], HIGHER: [0.9, 0.6], LOWER: [0.1, 0.4], NOT_LOWER: [0.7, 0.5],
         NOT_HIGHER: [0.3, 0.5], SAME: [0.8, 0.2]}
CASES = build_cases()


def oracle(cases: list[Case], wrong: Collection[Case] = ()) -> Callable[[list[str]], np.ndarray]:
    """Answers each capability's batch from the cases' own expectations, breaking those in ``wrong``."""
    batches = {}
    for capability in CAPABILITIES:
        mine = [case for case in cases if case.capability == capability]
        batches[tuple(text for case in mine for text in case.texts)] = np.concatenate(
            [(WRONG if case in wrong else RIGHT)[case.expected] for case in mine])
    return lambda texts: batches[tuple(texts)]


def test_suite_has_300_distinct_cases_over_every_capability_and_is_seeded() -> None:
    counts = Counter(case.capability for case in CASES)
    assert len(CASES) >= 300 and set(counts) == set(CAPABILITIES) and min(counts.values()) >= 50
    assert len({case.texts for case in CASES}) == len(CASES)
    assert build_cases() == CASES and build_cases(seed=1) != CASES
    assert {case.expected for case in CASES if case.capability == "negation"} == {POSITIVE, NEGATIVE}


@pytest.mark.parametrize("phrase, expected", [("not good", NEGATIVE), ("didn't like", NEGATIVE),
                                              ("never boring", POSITIVE), ("not bad", POSITIVE)])
def test_negation_takes_the_label_opposite_to_the_negated_phrase(phrase: str, expected: str) -> None:
    found = [case for case in CASES if case.capability == "negation" and phrase in case.texts[0]]
    assert found and {case.expected for case in found} == {expected}


def test_contrast_is_decided_after_but_and_the_clauses_disagree() -> None:
    contrast = [case for case in CASES if case.capability == "contrast"]
    for case in contrast:
        before, after = case.texts[0].split(" but ")
        last = after.rstrip(".").split()[-1]
        assert last in GOOD + BAD and case.expected == (NEGATIVE if last in BAD else POSITIVE)
        assert set(before.replace(",", "").split()) & set(BAD if last in GOOD else GOOD)
    assert {case.expected for case in contrast} == {POSITIVE, NEGATIVE}


def test_pair_cases_change_their_text_and_typos_swap_two_letters() -> None:
    for case in (c for c in CASES if len(c.texts) == 2):
        assert case.texts[0] != case.texts[1]
    typos = [case.texts for case in CASES if case.capability == "invariance"][3::4]  # title, name, city, typo
    for original, typo in typos:
        changed = [i for i, (a, b) in enumerate(zip(original, typo)) if a != b]
        assert len(original) == len(typo) and len(changed) == 2 and changed[1] == changed[0] + 1
        assert typo[changed[0]] == original[changed[1]] and typo[changed[1]] == original[changed[0]]


def test_an_oracle_passes_everything_in_one_call_per_capability() -> None:
    answer, calls = oracle(CASES), []
    result = run_checks(lambda texts: calls.append(len(texts)) or answer(texts))
    assert result["cases"] == len(CASES) and result["pass_rate"] == 1.0
    assert all(r["pass_rate"] == 1.0 and r["failures"] == [] for r in result["capabilities"].values())
    assert len(calls) == len(CAPABILITIES) and sum(calls) == sum(len(case.texts) for case in CASES)


def test_pass_rates_and_failures_count_the_broken_cases() -> None:
    negation = [case for case in CASES if case.capability == "negation"]
    broken = {*negation[:7], *[case for case in CASES if case.capability == "direction"][-2:]}
    result = run_checks(oracle(CASES, broken))
    report = result["capabilities"]
    assert report["negation"]["pass_rate"] == pytest.approx((len(negation) - 7) / len(negation))
    assert report["direction"]["pass_rate"] == pytest.approx(1 - 2 / report["direction"]["cases"])
    assert report["contrast"]["pass_rate"] == 1.0
    assert result["pass_rate"] == pytest.approx(1 - 9 / len(CASES))
    assert [f["texts"] for f in report["negation"]["failures"]] == [list(case.texts) for case in negation[:5]]
    first = report["negation"]["failures"][0]
    assert first["expected"] == negation[0].expected and first["got"] == WRONG[negation[0].expected]
    assert len(report["direction"]["failures"]) == 2


def test_a_constant_predictor_fails_negation_and_intensity() -> None:
    result = run_checks(lambda texts: np.full(len(texts), 0.5))["capabilities"]
    negation = [case for case in CASES if case.capability == "negation"]
    assert result["negation"]["pass_rate"] == pytest.approx(
        sum(case.expected == POSITIVE for case in negation) / len(negation))  # 0.5 counts as positive
    assert result["negation"]["pass_rate"] < 0.6 and result["intensity"]["pass_rate"] == 0.0
    assert result["invariance"]["pass_rate"] == result["direction"]["pass_rate"] == 1.0
