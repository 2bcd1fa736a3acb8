"""The unit layer: no data set, no servers, no subprocesses; the whole layer runs in under a minute."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def real_data() -> Path:
    """Unit tests never read the IMDB data: a test that asks for it belongs in ``tests/system``."""
    pytest.fail("a unit test asked for the IMDB data (real_data): move it to tests/system", pytrace=False)
