"""The system layer: the real IMDB data, real servers and processes, a real browser."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import ServedApp, served_app


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    """``sentiment-app serve`` with the bundled model (gateway + endpoint processes), one per module."""
    with served_app(tmp_path_factory.mktemp("home")) as served:
        yield served
