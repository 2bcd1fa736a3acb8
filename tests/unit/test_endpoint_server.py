"""``python -m sentiment_app.cli.endpoint_server``'s options, refused before anything starts. (The
server itself: ``tests/system/test_serving.py``.)"""

from __future__ import annotations

from click.testing import CliRunner

from sentiment_app.artifacts.locate import bundled_model_dir
from sentiment_app.cli.endpoint_server import main as server_main


def test_server_options_are_documented_with_their_variables() -> None:
    result = CliRunner().invoke(server_main, ["--help"])
    assert result.exit_code == 0
    for text in ("--max-batch-size", "SENTIMENT_APP_MAX_BATCH_SIZE", "--max-batch-wait-ms",
                 "SENTIMENT_APP_MAX_BATCH_WAIT_MS", "--torch-threads", "SENTIMENT_APP_TORCH_THREADS"):
        assert text in result.output


def test_server_refuses_a_bad_batch_size() -> None:
    result = CliRunner().invoke(server_main, ["--model", str(bundled_model_dir()), "--max-batch-size", "0"])
    assert result.exit_code == 2 and "max-batch-size" in result.output


def test_any_free_port_needs_one_worker() -> None:
    refused = CliRunner().invoke(server_main, ["--model", str(bundled_model_dir()), "--port", "0", "--workers", "2"])
    assert refused.exit_code == 2 and "needs one worker" in refused.output


def test_server_takes_variants_or_a_model_and_capture_needs_a_name() -> None:
    model = str(bundled_model_dir())
    help_text = CliRunner().invoke(server_main, ["--help"]).output
    for text in ("--variant", "--shadow-variant", "--weights-file", "--capture-percent", "--store"):
        assert text in help_text
    for args, message in (
        ([], "Give --model DIR or at least one --variant"),
        (["--variant", "A=/no/such/model:1"], "not a model directory"),
        (["--variant", f"A={model}:1", "--shadow-variant", "A=" + model], "repeated: A"),
        (["--model", model, "--variant", f"A={model}:1"], "not both"),
        (["--model", model, "--capture-percent", "5"], "give --name too"),
    ):
        refused = CliRunner().invoke(server_main, args)
        assert refused.exit_code == 2 and message in refused.output, refused.output
