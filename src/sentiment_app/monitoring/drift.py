"""Captured traffic against a baseline's bands: each band's statistic measured on the traffic and,
when it rests on at least ``REFERENCE_RECORDS`` values, checked against its band."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sentiment_app.monitoring.baseline import REFERENCE_RECORDS, Bands, Constraint
from sentiment_app.monitoring.feedback import Feedback
from sentiment_app.monitoring.statistics import STATISTICS, Observations, measure
from sentiment_app.monitoring.traffic import Captured
from sentiment_app.monitoring.violations import DRIFT, Violation

OK, VIOLATION, TOO_FEW = "ok", "violation", "too few to judge"


@dataclass(frozen=True)
class Check:
    constraint: Constraint
    observed: float | None
    count: int  # values the observed figure rests on

    @property
    def status(self) -> str:
        if self.observed is None or self.count < REFERENCE_RECORDS:
            return TOO_FEW
        return OK if self.constraint.holds(self.observed) else VIOLATION

    def to_violation(self) -> Violation:
        """A band broken, as ``constraint_violations.json`` lists it: a drift from the baseline."""
        c = self.constraint
        return Violation(c.name, DRIFT, f"{c.description}: {self.observed:.4g} outside the baseline's band {c.band} "
                                        f"({self.count} values)")

    def to_json(self) -> dict[str, object]:
        c = self.constraint
        return {"constraint": c.name, "description": c.description, "baseline": c.baseline, "lower": c.lower,
                "upper": c.upper, "observed": self.observed, "count": self.count, "status": self.status}


def observe(records: Sequence[Captured], feedback: dict[str, Feedback], vocabulary: frozenset[str]) -> Observations:
    """The traffic's observations: every review of every record; agreement where feedback names a
    one-review answer."""
    reviews = [review for record in records for review in record.reviews]
    verdicts = [verdict for record in records for verdict in record.verdicts]
    agreement = [record.verdicts[0].label == feedback[record.inference_id].label for record in records
                 if record.inference_id in feedback and len(record.reviews) == 1]
    return Observations.of(reviews, vocabulary, [v.label == "positive" for v in verdicts],
                           [v.confidence for v in verdicts if v.confidence is not None], agreement)


def check(bands: Bands | None, observations: Observations) -> list[Check]:
    """One check per band, in the baseline's order; none for a baseline without bands."""
    statistics = {statistic.name: statistic for statistic in STATISTICS}
    return [Check(constraint, *measure(statistics[constraint.name], observations))
            for constraint in (bands.constraints if bands else ())]
