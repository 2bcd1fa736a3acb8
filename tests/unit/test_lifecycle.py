"""``sentiment-app endpoint``: user errors refused before any server starts. (Real background servers:
``tests/system/test_lifecycle.py``.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.serving_support import endpoint_cli
from tests.support import Cli


@pytest.fixture()
def cli(tmp_path: Path) -> Cli:
    return endpoint_cli(tmp_path)


@pytest.mark.parametrize("args, message", [
    (["create", "bad_name"], "Invalid endpoint name"),
    (["create", "x-"], "Invalid endpoint name"),
    (["create", "a" * 64], "Invalid endpoint name"),
    (["delete", "missing"], "No endpoint named"),
    (["logs", "missing"], "No log"),
])
def test_user_errors_are_clear(cli: Cli, args: list[str], message: str) -> None:
    assert message in cli(*args, ok=False).output
