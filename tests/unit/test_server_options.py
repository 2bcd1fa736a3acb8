"""The endpoint server's settings: one object, whose command line the server's own CLI reads back."""

from __future__ import annotations

from dataclasses import replace

from click.testing import CliRunner

from sentiment_app.artifacts.locate import bundled_model_dir
from sentiment_app.cli import endpoint_server
from sentiment_app.serving.options import DEFAULTS, ServerOptions


def test_the_command_line_reads_back_the_same_options(monkeypatch) -> None:
    chosen = ServerOptions(host="0.0.0.0", port=9001, name="somewhere", workers=3, timeout_s=12.5,
                           max_payload_bytes=3 * 2**20, idle_timeout_s=30.0, max_batch_size=7,
                           max_batch_wait_ms=0.0, torch_threads=2, access_log=True)
    seen: list[ServerOptions] = []
    monkeypatch.setattr(endpoint_server, "run_server", lambda config, options, *rest: seen.append(options))
    monkeypatch.setenv("SAGEMAKER_BIND_TO_PORT", "1234")  # the chosen options win over the container's variables
    model = str(bundled_model_dir())
    result = CliRunner().invoke(endpoint_server.main, ["--model", model, *chosen.arguments()])
    assert result.exit_code == 0, result.output
    assert seen == [chosen]


def test_defaults_round_trip_through_json() -> None:
    assert ServerOptions.from_json(DEFAULTS.to_json()) == DEFAULTS
    assert ServerOptions.from_json(ServerOptions(name="x", idle_timeout_s=5.0).to_json()).idle_timeout_s == 5.0


def test_a_setting_left_at_its_default_follows_the_containers_variable(monkeypatch) -> None:
    """As in SageMaker: SAGEMAKER_MODEL_SERVER_WORKERS sets the workers unless the caller chose them."""
    seen: list[ServerOptions] = []
    monkeypatch.setattr(endpoint_server, "run_server", lambda config, options, *rest: seen.append(options))
    monkeypatch.setenv("SAGEMAKER_MODEL_SERVER_WORKERS", "3")
    monkeypatch.setenv("SAGEMAKER_BIND_TO_PORT", "1234")
    chosen = ServerOptions(port=9001, name="somewhere")
    result = CliRunner().invoke(endpoint_server.main, ["--model", str(bundled_model_dir()), *chosen.arguments()])
    assert result.exit_code == 0, result.output
    assert seen == [replace(chosen, workers=3)]
