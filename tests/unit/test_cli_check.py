"""``sentiment-app check``: the behavioural suite against a model, as JSON and as text."""

from __future__ import annotations

import json

from click.testing import CliRunner

from sentiment_app.artifacts.locate import bundled_model_dir
from sentiment_app.cli import main
from sentiment_app.evaluation.behaviour import CAPABILITIES


def test_check_reports_every_capability_of_the_chosen_model(tmp_path) -> None:
    runner = CliRunner()
    done = runner.invoke(main, ["check", "--home", str(tmp_path), "--model", str(bundled_model_dir("lstm-seed")), "--json"])
    assert done.exit_code == 0, done.output
    result = json.loads(done.output)
    assert result["cases"] >= 300 and set(result["capabilities"]) == set(CAPABILITIES)
    assert sum(c["cases"] for c in result["capabilities"].values()) == result["cases"]
    for capability in result["capabilities"].values():
        assert 0 <= capability["pass_rate"] <= 1 and len(capability["failures"]) <= 5
    default = runner.invoke(main, ["check", "--home", str(tmp_path)])  # the bundled default
    negation = result["capabilities"]["negation"]["cases"]
    assert default.exit_code == 0 and "negation" in default.output and f"of {negation}" in default.output
    assert json.loads(done.output) != json.loads(runner.invoke(main, ["check", "--home", str(tmp_path), "--json"]).output)
