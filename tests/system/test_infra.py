"""The deployable API tier run for real: the Lambda zip in a clean interpreter against a real endpoint
server, and ``infra/template.yaml`` checked by cfn-lint. (What can be checked without running
anything: ``tests/unit/test_infra.py``.)"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sentiment_app.gateway.api.events import rest_event
from sentiment_app.wire import SENTIMENT_ROUTE
from tests.serving_support import running_endpoint
from tests.support import INFRA_TEMPLATE, NEGATIVE, POSITIVE

CFN_LINT = Path(sys.executable).with_name("cfn-lint")
ENDPOINT_NAME = "infra-sentiment"
# What Lambda's Python runtime provides besides the standard library: boto3 and its dependencies.
RUNTIME_MODULES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")

# Runs in `python -I -S` with only the zip and the runtime's modules on sys.path; event on stdin.
INVOKE = """
import importlib.util, json, sys
sys.path[:0] = sys.argv[1:3]
import lambda_function
response = lambda_function.lambda_handler(json.load(sys.stdin), None)
project_visible = importlib.util.find_spec("sentiment_app") is not None
print(json.dumps({"response": response, "file": lambda_function.__file__, "project_visible": project_visible}))
"""


@pytest.fixture(scope="module")
def runtime_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding only boto3 and its dependencies (links), like Lambda's runtime path."""
    folder = tmp_path_factory.mktemp("runtime")
    for name in RUNTIME_MODULES:
        spec = importlib.util.find_spec(name)
        assert spec and spec.origin, name
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (folder / source.name).symlink_to(source)
    return folder


@pytest.fixture(scope="module")
def endpoint_url() -> Iterator[str]:
    with running_endpoint(ENDPOINT_NAME) as url:
        yield url


def invoke_zip(lambda_zip: Path, runtime_path: Path, event: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """``lambda_handler`` imported from the zip in a fresh interpreter that cannot see the project."""
    run = subprocess.run([sys.executable, "-I", "-S", "-c", INVOKE, str(lambda_zip), str(runtime_path)],
                         input=json.dumps(event), env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def api_event(review: str | None, method: str = "POST") -> dict[str, Any]:
    """What API Gateway sends for a request to the deployed route."""
    headers = [("Content-Type", "text/plain;charset=UTF-8"), ("Origin", "https://reviews.example.com"),
               ("Host", "a1b2c3.execute-api.us-east-1.amazonaws.com")]
    return rest_event(method=method, path=SENTIMENT_ROUTE, resource=SENTIMENT_ROUTE, headers=headers, query=[],
                      body=(review or "").encode("utf-8"), source_ip="192.0.2.1", request_id="req-1")


def function_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The function's configuration plus what Lambda sets (both region variables: boto3 reads only
    AWS_DEFAULT_REGION); boto3 finds the local endpoint through its standard AWS_ENDPOINT_URL setting.
    HOME is empty so no ~/.aws file interferes."""
    return {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "ENDPOINT_NAME": ENDPOINT_NAME,
            "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", **extra}


@pytest.mark.parametrize("review, label", [(POSITIVE, "positive"), (NEGATIVE, "negative")], ids=["pos", "neg"])
def test_zip_answers_an_api_gateway_event_from_a_real_endpoint(
    lambda_zip: Path, runtime_path: Path, endpoint_url: str, tmp_path: Path, review: str, label: str,
) -> None:
    env = function_env(tmp_path, AWS_ENDPOINT_URL=endpoint_url, CORS_ALLOW_ORIGIN="https://reviews.example.com")
    result = invoke_zip(lambda_zip, runtime_path, api_event(review), env)
    assert result["file"] == str(lambda_zip / "lambda_function.py")  # imported from the zip
    assert result["project_visible"] is False
    response = result["response"]
    assert response["statusCode"] == 200, response
    answer = json.loads(response["body"])
    assert answer["label"] == label and (answer["probability"] >= 0.5) == (label == "positive")
    assert response["headers"]["Access-Control-Allow-Origin"] == "https://reviews.example.com"


def test_zip_answers_the_preflight_and_reports_a_missing_endpoint(
    lambda_zip: Path, runtime_path: Path, endpoint_url: str, tmp_path: Path,
) -> None:
    preflight = invoke_zip(lambda_zip, runtime_path, api_event(None, "OPTIONS"), function_env(tmp_path))["response"]
    assert preflight["statusCode"] == 204 and "POST" in preflight["headers"]["Access-Control-Allow-Methods"]
    env = function_env(tmp_path, AWS_ENDPOINT_URL=endpoint_url, ENDPOINT_NAME="no-such-endpoint")
    missing = invoke_zip(lambda_zip, runtime_path, api_event(POSITIVE), env)["response"]
    assert missing["statusCode"] == 502 and "Traceback" not in missing["body"]


@pytest.fixture(scope="module")
def lint_findings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """cfn-lint's findings per file, for the template and for a copy with a wrong runtime (one run)."""
    broken = tmp_path_factory.mktemp("lint") / "broken.yaml"
    broken.write_text(INFRA_TEMPLATE.read_text().replace("Runtime: python3.12", "Runtime: python2.0"))
    run = subprocess.run([str(CFN_LINT), "--format", "parseable", str(INFRA_TEMPLATE), str(broken)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and not run.stderr, run.stderr
    findings: dict[str, list[str]] = {"template": [], "broken": []}
    for line in run.stdout.splitlines():
        findings["broken" if line.startswith(f"{broken}:") else "template"].append(line)
    return findings


def test_template_passes_cfn_lint(lint_findings: dict[str, list[str]]) -> None:
    assert lint_findings["template"] == []


def test_cfn_lint_catches_a_broken_template(lint_findings: dict[str, list[str]]) -> None:
    """The check above can fail: the same template with a wrong runtime is reported."""
    assert any(":E3030:'python2.0'" in line for line in lint_findings["broken"]), lint_findings["broken"]
