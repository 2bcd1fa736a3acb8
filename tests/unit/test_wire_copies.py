"""The standalone Lambda function (zipped alone, so it cannot import the package) keeps its own
copies of the wire's routes, labels and limits: they must be the ones ``wire.py`` declares."""

from __future__ import annotations

import pytest

from sentiment_app.gateway.function import lambda_function
from sentiment_app import wire

COPIED = ("MAX_BODY_BYTES", "MAX_REVIEWS", "LABELS", "FEEDBACK_ROUTE")
DECLARED = [name for name in vars(wire) if name.isupper()]


@pytest.mark.parametrize("name", DECLARED)
def test_every_copy_in_the_function_equals_the_wires(name: str) -> None:
    if name in COPIED:
        assert getattr(lambda_function, name) == getattr(wire, name)
    else:  # a value the function does not use needs no copy; one it has must agree
        assert getattr(lambda_function, name, getattr(wire, name)) == getattr(wire, name)


def test_the_function_copies_what_it_uses() -> None:
    assert set(COPIED) <= set(DECLARED) and all(hasattr(lambda_function, name) for name in COPIED)
