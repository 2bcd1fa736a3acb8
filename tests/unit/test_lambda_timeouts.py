"""boto3's timeouts and retries in the Lambda function end before the function's own timeout
(infra/template.yaml) and before API Gateway's 29 s, so a model that does not answer still gets
the caller the function's 504 rather than the platform's."""

from __future__ import annotations

from botocore.config import Config
from botocore.retries.standard import ExponentialBackoff
from cfnlint.decode import decode

from sentiment_app.gateway.function.lambda_function import CLIENT_CONFIG
from tests.support import INFRA_TEMPLATE

API_GATEWAY_LIMIT_S = 29.0  # a REST API's integration timeout
HANDLER_MARGIN_S = 1.0  # the rest of the handler: parsing, the answer, the log line


def function_timeout_s() -> float:
    template, errors = decode(str(INFRA_TEMPLATE))
    assert not errors and template is not None
    return float(template["Resources"]["Function"]["Properties"]["Timeout"])


def worst_case_s(config: Config) -> float:
    """Every attempt connects and then reads for as long as allowed; before each retry, standard mode's
    longest backoff (its exponential cap, plus what a Retry-After header may add)."""
    assert config.retries["mode"] == "standard"
    attempts = config.retries["total_max_attempts"]
    backoffs = sum(min(ExponentialBackoff._BASE ** retry, ExponentialBackoff._MAX_BACKOFF)
                   + ExponentialBackoff._RETRY_AFTER_MAX_ADDITIONAL for retry in range(attempts - 1))
    return attempts * (config.connect_timeout + config.read_timeout) + backoffs


def test_the_clients_worst_case_fits_inside_the_function_and_api_gateway() -> None:
    limit = min(function_timeout_s(), API_GATEWAY_LIMIT_S)
    assert worst_case_s(CLIENT_CONFIG) + HANDLER_MARGIN_S <= limit


def test_the_worst_case_counts_every_attempt_and_backoff() -> None:
    """The old settings (read 28 s, two attempts) could wait a minute: far past both limits."""
    old = Config(connect_timeout=5, read_timeout=28, retries={"mode": "standard", "total_max_attempts": 2})
    assert worst_case_s(old) == 2 * (5 + 28) + 1 + 5
    assert worst_case_s(old) > function_timeout_s()
