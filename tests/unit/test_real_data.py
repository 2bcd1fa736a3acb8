"""Where the IMDB data is missing, a test that needs it is skipped with one line on a developer's machine,
but fails under CI (``CI=true``), so CI can never go green without it (``tests.data_support.imdb_data``,
behind the ``real_data`` fixture)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from sentiment_app.settings import ENV_DATA
from tests.data_support import imdb_data


@pytest.fixture
def missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``SENTIMENT_APP_DATA`` pointing at a folder that does not exist, CI unset."""
    monkeypatch.setenv(ENV_DATA, str(tmp_path / "nowhere"))
    monkeypatch.delenv("CI", raising=False)
    return tmp_path / "nowhere"


@pytest.fixture
def present(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data folder holding the split (two tiny files) and nothing else, CI unset."""
    for name in ("train.csv.gz", "test.csv.gz"):
        (tmp_path / name).write_bytes(gzip.compress(b"id,rating,label,text\n"))
    monkeypatch.setenv(ENV_DATA, str(tmp_path))
    monkeypatch.delenv("CI", raising=False)
    return tmp_path


def test_missing_data_skips_with_one_line_saying_where_and_how(missing: Path) -> None:
    with pytest.raises(pytest.skip.Exception) as skipped:
        imdb_data()
    assert str(skipped.value) == f"IMDB data not found at {missing}; set {ENV_DATA} (see README)"


@pytest.mark.parametrize("value", ["true", "1", "TRUE"])
def test_missing_data_fails_under_ci(missing: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception) as failed:
        imdb_data()
    assert str(missing) in str(failed.value) and "\n" not in str(failed.value)
    assert failed.value.pytrace is False  # the reason alone, no traceback into the helper


@pytest.mark.parametrize("value", ["", "0", "false"], ids=["empty", "0", "false"])
def test_ci_switched_off_still_skips(missing: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.skip.Exception):
        imdb_data()


def test_present_data_is_returned_and_other_files_are_asked_for_by_name(
    present: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert imdb_data() == present
    with pytest.raises(pytest.skip.Exception, match=f"IMDB data at {present} lacks unsup.csv.gz, short; set "):
        imdb_data("unsup.csv.gz", "short")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="lacks short"):
        imdb_data("short")
    (present / "short").mkdir()
    assert imdb_data("short") == present


def test_without_the_setting_the_data_is_looked_for_beside_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_DATA, raising=False)
    monkeypatch.delenv("CI", raising=False)
    try:
        found = imdb_data()
    except pytest.skip.Exception as skipped:
        found = Path(str(skipped.value).split(" not found at ")[1].split(";")[0])
    assert found == Path(__file__).resolve().parents[3] / "shared" / "data"


INNER_TEST = """
def test_reads_the_data(real_data):
    assert real_data.is_dir()

def test_reads_it_too(real_data):
    assert real_data.is_dir()
"""


@pytest.mark.parametrize("ci", [False, True], ids=["developer", "ci"])
def test_the_real_data_fixture_in_a_run(pytester: pytest.Pytester, missing: Path, monkeypatch: pytest.MonkeyPatch,
                                        ci: bool) -> None:
    """The fixture itself, in a pytest run of its own (in this process, the root conftest's hooks too):
    two tests needing the data are skipped and the run says why in one line; under CI both error, each
    with that line as its whole report."""
    if ci:
        monkeypatch.setenv("CI", "true")
    pytester.makeconftest("from tests.conftest import pytest_terminal_summary, real_data  # noqa: F401")
    pytester.makepyfile(test_inner=INNER_TEST)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    reason = f"IMDB data not found at {missing}; set {ENV_DATA} (see README)"
    if ci:
        result.assert_outcomes(errors=2)
        result.stdout.fnmatch_lines(["*ERROR at setup of test_reads_the_data*", f"{reason} (CI is set*",
                                     "*ERROR at setup of test_reads_it_too*", f"{reason} (CI is set*"],
                                    consecutive=True)
    else:
        result.assert_outcomes(skipped=2)
        assert [line for line in result.outlines if reason in line] == [f"2 tests skipped: {reason}"]
