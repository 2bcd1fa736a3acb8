"""Fixtures of both layers: the real IMDB data (skipped when absent, failed under CI), the bundled
models loaded once per run, the ``aws`` commands' moto account and the Lambda package."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sentiment_app.artifacts.locate import bundled_model_dir
from sentiment_app.inference.model import SentimentModel
from tests.aws_support import Recorder, recording_aws
from tests.data_support import MISSING_DATA, imdb_data
from tests.serving_support import build_zip_with_cli

pytest_plugins = ["pytester"]  # tests/unit/test_real_data.py runs the real_data fixture in a pytest of its own


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The official split as gzipped CSVs: ``SENTIMENT_APP_DATA``, else ``../shared/data``. Tests that
    need more of the folder (``short/``, ``unsup.csv.gz``) call ``tests.support.imdb_data`` with it."""
    return imdb_data()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line for every test skipped for want of the IMDB data (pytest lists skips one per test)."""
    reasons = [report.longrepr[2] for report in terminalreporter.stats.get("skipped", [])
               if isinstance(report.longrepr, tuple) and MISSING_DATA in report.longrepr[2]]
    if reasons:
        reason = reasons[0].removeprefix("Skipped: ")
        terminalreporter.write_line(f"{len(reasons)} tests skipped: {reason}", yellow=True)


@pytest.fixture(scope="session")
def model() -> SentimentModel:
    """The bundled default model (a module may override this with its own ``model``)."""
    return SentimentModel.load(bundled_model_dir())


@pytest.fixture(scope="session")
def lstm_model() -> SentimentModel:
    """The bundled ``lstm-seed`` model: it also reads the processed form, rows of word ids."""
    return SentimentModel.load(bundled_model_dir("lstm-seed"))


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Recorder]:
    """moto in-process with dummy credentials, a bucket, and every session the commands open recording."""
    with recording_aws(monkeypatch, tmp_path) as recorder:
        yield recorder


@pytest.fixture(scope="session")
def lambda_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Lambda package as ``sentiment-app aws lambda-package`` builds it."""
    return build_zip_with_cli(tmp_path_factory.mktemp("pkg") / "nested" / "lambda.zip")
