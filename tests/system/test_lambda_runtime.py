"""The execution environments run the function as Lambda does: AWS's runtime interface client
(awslambdaric) in its own process, fed by the gateway's Runtime API, with Lambda's environment
variables and context object, its error payloads, init errors, timeouts and the log stream
(function lines, START/END/REPORT). Each test's function is a module of its own in a temporary
task root. (The gateway's use of them: tests/system/test_execution_environments.py.)"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest

from sentiment_app.gateway.runtime.pool import EnvironmentDied, InvocationTimeout
from sentiment_app.gateway.runtime.telemetry import FUNCTION_LOGGER, PLATFORM_LOGGER
from tests.lambda_support import invoke, probe_function

REPORT = re.compile(r"REPORT RequestId: (\S+)\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
                    r"Memory Size: 128 MB\tMax Memory Used: \d+ MB(\tInit Duration: \d+\.\d\d ms)?(\tStatus: \w+)?")
VARIABLES = ["AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
             "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "_HANDLER", "LAMBDA_TASK_ROOT", "AWS_REGION",
             "AWS_LAMBDA_RUNTIME_API", "AWS_EXECUTION_ENV", "_X_AMZN_TRACE_ID"]
PROBE = f"""
    import logging, os, sys
    logger = logging.getLogger()
    logger.setLevel(logging.INFO)
    def handler(event, context):
        logger.info("got %s", event["n"])
        if event.get("fail"):
            raise KeyError("review")
        if event.get("unmarshallable"):
            return {{"body": {{1, 2}}}}
        return {{"event": event, "main": sys.modules["__main__"].__spec__.name, "cwd": os.getcwd(),
                "environ": {{name: os.environ.get(name) for name in {VARIABLES!r}}},
                "context": {{name: getattr(context, name) for name in ("aws_request_id", "function_name",
                            "function_version", "memory_limit_in_mb", "invoked_function_arn", "log_group_name",
                            "log_stream_name")}}, "left_ms": context.get_remaining_time_in_millis()}}
"""


def lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, int, str]]:
    return [(r.name, r.levelno, r.getMessage()) for r in caplog.records if r.name in (FUNCTION_LOGGER, PLATFORM_LOGGER)]


def test_the_runtime_interface_client_gets_lambdas_environment_and_context(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    function = probe_function(tmp_path / "task", PROBE)
    first, second = invoke(function, [{"n": 1}, {"n": 2}], timeout_s=20)
    answer = first["result"]
    assert answer["event"] == {"n": 1} and answer["main"] == "awslambdaric.__main__"
    assert Path(answer["cwd"]) == tmp_path / "task"
    environ, context = answer["environ"], answer["context"]
    assert environ["AWS_LAMBDA_FUNCTION_NAME"] == context["function_name"] == "probe"
    assert environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == context["memory_limit_in_mb"] == "128"
    assert environ["AWS_LAMBDA_FUNCTION_VERSION"] == context["function_version"] == "$LATEST"
    assert environ["AWS_LAMBDA_LOG_GROUP_NAME"] == context["log_group_name"] == "/aws/lambda/probe"
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", context["log_stream_name"])
    assert environ["_HANDLER"] == "probe.handler" and environ["LAMBDA_TASK_ROOT"] == str(tmp_path / "task")
    assert environ["AWS_REGION"] == "eu-west-1" and environ["AWS_EXECUTION_ENV"] == (
        f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}")
    assert re.fullmatch(r"127\.0\.0\.1:\d+", environ["AWS_LAMBDA_RUNTIME_API"])
    assert environ["_X_AMZN_TRACE_ID"].startswith("Root=1-")
    assert context["aws_request_id"] == "req-0"
    assert context["invoked_function_arn"] == "arn:aws:lambda:eu-west-1:123456789012:function:probe"
    assert 15_000 < answer["left_ms"] <= 20_000  # the deadline the Runtime API sent
    assert second["result"]["context"]["aws_request_id"] == "req-1"
    assert second["result"]["environ"]["_X_AMZN_TRACE_ID"] != environ["_X_AMZN_TRACE_ID"]


def test_the_log_stream_holds_start_the_functions_lines_end_and_report_in_order(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    invoke(probe_function(tmp_path, PROBE), [{"n": 1}, {"n": 2}])
    stream = lines(caplog)
    assert [name for name, _, _ in stream] == [PLATFORM_LOGGER, FUNCTION_LOGGER, PLATFORM_LOGGER, PLATFORM_LOGGER] * 2
    start, function, end, report = (message for _, _, message in stream[:4])
    assert start == "START RequestId: req-0 Version: $LATEST"
    assert re.fullmatch(r"\[INFO\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\treq-0\tgot 1", function)
    assert end == "END RequestId: req-0"
    cold, warm = REPORT.fullmatch(report), REPORT.fullmatch(stream[7][2])
    assert cold and cold.group(2) and warm and not warm.group(2)  # Init Duration on the cold start only


def test_a_failing_function_answers_the_runtimes_error_payload(tmp_path: Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    failed, unmarshallable, fine = invoke(probe_function(tmp_path, PROBE),
                                          [{"n": 1, "fail": True}, {"n": 2, "unmarshallable": True}, {"n": 3}])
    error = failed["error"]
    assert error["errorType"] == "KeyError" and error["errorMessage"] == "'review'" and error["requestId"] == "req-0"
    assert any('raise KeyError("review")' in line for line in error["stackTrace"])
    assert unmarshallable["error"]["errorType"] == "Runtime.MarshalError"
    assert fine["result"]["event"] == {"n": 3}  # the environment lives on
    logged = [message for name, level, message in lines(caplog) if level == logging.ERROR and name == FUNCTION_LOGGER]
    assert logged[0].startswith("[ERROR] KeyError: 'review'\nTraceback (most recent call last):")
    reports = [REPORT.fullmatch(message) for _, _, message in lines(caplog) if message.startswith("REPORT")]
    assert [report.group(3) if report else None for report in reports] == ["\tStatus: error"] * 2 + [None]


def test_a_function_that_cannot_load_is_an_init_error(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    [answer] = invoke(probe_function(tmp_path, "import no_such_module\n"), [{"n": 1}])
    assert isinstance(answer, EnvironmentDied)
    logged = [message for _, _, message in lines(caplog)]
    assert any(message.startswith("[ERROR] Runtime.ImportModuleError: Unable to import module 'probe'")
               for message in logged)
    assert any(re.fullmatch(r"INIT_REPORT Init Duration: \d+\.\d\d ms\tPhase: init\tStatus: error\t"
                            r"Error Type: Runtime.ImportModuleError", message) for message in logged)


def test_a_timed_out_invocation_is_logged_as_lambda_logs_it(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    function = probe_function(tmp_path, "import time\ndef handler(event, context):\n    time.sleep(60)\n")
    [answer] = invoke(function, [{"n": 1}], timeout_s=1.5)
    assert isinstance(answer, InvocationTimeout)
    platform = [message for name, _, message in lines(caplog) if name == PLATFORM_LOGGER]
    timed_out = re.fullmatch(r"req-0 Task timed out after (\d+\.\d\d) seconds", platform[1])
    assert timed_out and 1.45 <= float(timed_out.group(1)) < 5 and platform[2] == "END RequestId: req-0"
    report = REPORT.fullmatch(platform[3])
    assert report and report.group(3) == "\tStatus: timeout"


def test_environments_do_not_outlive_a_killed_gateway(tmp_path: Path) -> None:
    """They run in a session of their own (a Ctrl-C is the gateway's to handle), so it is the Runtime
    API going away that ends them when the gateway dies without closing them."""
    probe_function(tmp_path, "def handler(event, context):\n    return {}\n")
    gateway = textwrap.dedent(f"""
        import asyncio
        from pathlib import Path
        from sentiment_app.gateway.runtime.environments import FunctionConfig, starter
        from sentiment_app.gateway.runtime.pool import EnvironmentPool

        async def main():
            pool = EnvironmentPool(starter(FunctionConfig("probe", "probe.handler", 128, Path({str(tmp_path)!r}))), 2)
            await asyncio.gather(*(pool.invoke({{}}, f"req-{{n}}", 30) for n in range(2)))
            print("ready", flush=True)
            await asyncio.sleep(60)

        asyncio.run(main())
    """)
    process = subprocess.Popen([sys.executable, "-c", gateway], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)
    environments: list[psutil.Process] = []
    try:
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
        environments = psutil.Process(process.pid).children()
        assert len(environments) == 2
    finally:
        process.kill()
        process.wait()
    _, alive = psutil.wait_procs(environments, timeout=30)
    assert not alive
