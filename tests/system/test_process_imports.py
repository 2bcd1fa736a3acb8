"""Each process of the serving chain imports only what it uses: the gateway (the local API Gateway
and its execution environments) never loads the model, so neither torch nor transformers; an
execution environment holds only the runtime interface client and the function."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from sentiment_app.gateway.function import lambda_function
from tests.lambda_support import invoke, probe_function

HEAVY = ("torch", "transformers", "numpy", "sklearn", "safetensors")
LOADED = "sorted({{m.split('.')[0] for m in sys.modules}} & {heavy!r})"


def test_the_gateway_app_imports_no_model_code() -> None:
    probe = ("import sys\n"
             "from sentiment_app.gateway.api.local_api import create_app\n"
             "create_app(concurrency=1)\n"
             f"print({LOADED.format(heavy=set(HEAVY))})")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_an_execution_environment_imports_only_the_runtime_and_the_function(tmp_path: Path) -> None:
    shutil.copy(lambda_function.__file__, tmp_path / "lambda_function.py")  # as the zip holds it
    source = ("import sys\nimport lambda_function\n"
              f"def handler(event, context):\n    return {LOADED.format(heavy={*HEAVY, 'sentiment_app'})}\n")
    [answer] = invoke(probe_function(tmp_path, source), [{}])
    assert answer == {"result": []}


def test_the_serve_command_loads_no_model_into_its_own_process() -> None:
    """``serve`` runs the gateway in-process and the model in the endpoint's: torch stays out of it."""
    probe = ("import sys\nimport sentiment_app.cli.serve\n"
             f"print({LOADED.format(heavy={'torch', 'transformers', 'sklearn', 'safetensors'})})")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
