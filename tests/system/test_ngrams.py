"""The NBSVM's n-gram buckets are the same in another process (Python's own string hash is not)."""

from __future__ import annotations

import subprocess
import sys

from sentiment_app.features.ngrams import NgramHasher
from tests.support import NGRAM_REVIEWS


def test_buckets_are_the_same_in_another_process() -> None:
    """Python's own ``hash`` of a string changes per process; a saved model must not."""
    code = ("from sentiment_app.features.ngrams import NgramHasher; "
            f"print(NgramHasher(3, 22).pairs({NGRAM_REVIEWS!r})[1].tolist())")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": "123", "PATH": ""}).stdout
    assert other.strip() == str(NgramHasher(3, 22).pairs(NGRAM_REVIEWS)[1].tolist())
