"""The deployable API tier without running it: the Lambda zip's contents, ``infra/template.yaml`` read
for least privilege and for matching the local gateway, and the web page as static files. (The zip
run in a clean interpreter against a real endpoint server, and cfn-lint: ``tests/system/test_infra.py``.)"""

from __future__ import annotations

import fnmatch
import io
import json
import re
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode
from click.testing import CliRunner

from sentiment_app.cli import Main
from sentiment_app.cli.aws import lambda_package, web_site
from sentiment_app.gateway.function import lambda_function
from sentiment_app.wire import FEEDBACK_ROUTE, SENTIMENT_ROUTE
from sentiment_app.gateway.function.package import DEFAULT_ZIP, lambda_zip_bytes
from sentiment_app.web import static_dir
from tests.serving_support import build_zip_with_cli
from tests.support import INFRA_TEMPLATE, REPO

@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    """The template as data; cfn-lint's loader understands the short intrinsic tags (!Ref, !Sub ...)."""
    data, errors = decode(str(INFRA_TEMPLATE))
    assert not errors, errors
    return data


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template["Resources"].items() if res["Type"] == kind}


# -- the Lambda package ----------------------------------------------------------------------------


def test_zip_holds_only_the_handler_file_as_used_locally(lambda_zip: Path) -> None:
    with zipfile.ZipFile(lambda_zip) as archive:
        assert archive.testzip() is None
        entries = archive.infolist()
        assert [entry.filename for entry in entries] == ["lambda_function.py"]
        assert archive.read("lambda_function.py") == Path(lambda_function.__file__).read_bytes()
    entry = entries[0]
    assert entry.date_time == (1980, 1, 1, 0, 0, 0)
    assert entry.external_attr >> 16 == 0o100644


def test_zip_is_reproducible_and_written_atomically(lambda_zip: Path, tmp_path: Path) -> None:
    again = build_zip_with_cli(tmp_path / "lambda.zip")
    assert again.read_bytes() == lambda_zip.read_bytes()
    build_zip_with_cli(again)  # overwrite in place
    assert sorted(path.name for path in tmp_path.iterdir()) == ["lambda.zip"]  # no temporary file left
    assert again.read_bytes() == lambda_zip_bytes()


def test_help() -> None:
    package_help = CliRunner().invoke(lambda_package, ["--help"])
    assert package_help.exit_code == 0 and str(DEFAULT_ZIP) in package_help.output
    site_help = CliRunner().invoke(web_site, ["--help"])
    assert site_help.exit_code == 0 and "--api-url" in site_help.output and "config.js" in site_help.output


@pytest.mark.parametrize("command, args", [(lambda_package, []), (web_site, ["--api-url", SENTIMENT_ROUTE])],
                         ids=["lambda-package", "web-site"])
def test_unwritable_output_is_one_clear_error(tmp_path: Path, command: Any, args: list[str]) -> None:
    """Under the CLI's error handling (as when mounted under ``sentiment-app aws``): one line, exit 1."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(Main(commands={command.name: command}),
                                [command.name, *args, "--output", str(blocker / "out")])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert result.output.startswith("error: Cannot write") and str(blocker) in result.output


# -- the template ----------------------------------------------------------------------------------


def statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [statement for policy in role["Properties"]["Policies"]
            for statement in policy["PolicyDocument"]["Statement"]]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_role_may_invoke_only_the_one_endpoint_and_write_its_own_logs(template: dict[str, Any]) -> None:
    roles = resources_of(template, "AWS::IAM::Role")
    assert list(roles) == ["FunctionRole"]
    role = roles["FunctionRole"]
    assert "ManagedPolicyArns" not in role["Properties"]  # nothing granted outside this template
    granted = [(action, json.dumps(statement["Resource"], sort_keys=True))
               for statement in statements(role) for action in as_list(statement["Action"])]
    assert all(statement["Effect"] == "Allow" and "NotAction" not in statement for statement in statements(role))
    assert all("*" not in action for action, _ in granted)
    endpoint_arn = json.dumps({"Fn::Sub": "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}"
                                          ":endpoint/${EndpointName}"})
    log_group = json.dumps({"Fn::GetAtt": ["FunctionLogGroup", "Arn"]})
    assert sorted(granted) == sorted([("sagemaker:InvokeEndpoint", endpoint_arn),
                                      ("logs:CreateLogStream", log_group), ("logs:PutLogEvents", log_group)])
    function = template["Resources"]["Function"]["Properties"]
    assert function["Role"] == {"Fn::GetAtt": ["FunctionRole", "Arn"]}
    assert function["LoggingConfig"]["LogGroup"] == {"Ref": "FunctionLogGroup"}


def feedback_arn(template: dict[str, Any], location: str) -> str:
    """The S3 ARN pattern the feedback policy grants for a ``FeedbackLocation``, its intrinsics applied."""
    (statement,) = template["Resources"]["FeedbackPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    text, names = statement["Resource"]["Fn::Sub"]
    separator, parameter = names["BucketAndPrefix"]["Fn::Select"][1]["Fn::Split"]
    assert parameter == {"Ref": "FeedbackLocation"}
    index = names["BucketAndPrefix"]["Fn::Select"][0]
    path = location.split(separator)[index]
    return text.replace("${AWS::Partition}", "aws").replace("${BucketAndPrefix}", path)


def test_feedback_may_be_put_under_its_location_only_and_only_when_set(template: dict[str, Any]) -> None:
    assert template["Parameters"]["FeedbackLocation"]["Default"] == ""
    assert template["Conditions"]["StoreFeedback"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "FeedbackLocation"}, ""]}]}
    policy = template["Resources"]["FeedbackPolicy"]
    assert (policy["Type"], policy["Condition"]) == ("AWS::IAM::RolePolicy", "StoreFeedback")
    assert policy["Properties"]["RoleName"] == {"Ref": "FunctionRole"}
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert (statement["Effect"], statement["Action"]) == ("Allow", "s3:PutObject")
    variables = template["Resources"]["Function"]["Properties"]["Environment"]["Variables"]
    assert variables["FEEDBACK_LOCATION"] == {"Fn::If": ["StoreFeedback", {"Ref": "FeedbackLocation"},
                                                         {"Ref": "AWS::NoValue"}]}  # unset: the route answers 501

    granted = feedback_arn(template, "s3://my-bucket/sentiment-app/feedback/my-endpoint")
    written = f"my-bucket/sentiment-app/feedback/my-endpoint/2026/12/01/16/{uuid.uuid4()}.json"  # as the function names it
    assert fnmatch.fnmatchcase(f"arn:aws:s3:::{written}", granted)
    for elsewhere in ("my-bucket/sentiment-app/feedback/my-endpoint-2/x.json", "my-bucket/sentiment-app/models/x",
                      "other-bucket/sentiment-app/feedback/my-endpoint/x.json"):
        assert not fnmatch.fnmatchcase(f"arn:aws:s3:::{elsewhere}", granted), elsewhere


def test_feedback_location_is_empty_or_an_s3_prefix_the_policy_can_name(template: dict[str, Any]) -> None:
    """No trailing slash (the grant would be ``prefix//*``) and no wildcards (IAM would widen them)."""
    pattern = re.compile(template["Parameters"]["FeedbackLocation"]["AllowedPattern"])
    for good in ("", "s3://my-bucket", "s3://my-bucket/sentiment-app/feedback/my-endpoint"):
        assert pattern.fullmatch(good), good
    for bad in ("s3://my-bucket/prefix/", "s3://my-bucket/*", "s3://my-bucket/a?c", "s3://my-bucket//prefix",
                "my-bucket/prefix", "https://my-bucket/prefix", "s3://My-Bucket/prefix", "/tmp/feedback"):
        assert not pattern.fullmatch(bad), bad


def test_endpoint_name_must_be_lower_case(template: dict[str, Any]) -> None:
    """SageMaker lower-cases endpoint ARNs and IAM compares them case-sensitively."""
    pattern = re.compile(template["Parameters"]["EndpointName"]["AllowedPattern"])
    assert pattern.fullmatch("sentiment-2024") and pattern.fullmatch("infra-sentiment")
    for bad in ("Sentiment", "my_endpoint", "-leading", ""):
        assert not pattern.fullmatch(bad), bad


def test_function_matches_the_zip_and_the_handler(template: dict[str, Any]) -> None:
    function = template["Resources"]["Function"]["Properties"]
    assert function["Runtime"] == "python3.12"
    module, handler = function["Handler"].split(".")
    assert f"{module}.py" in zipfile.ZipFile(io.BytesIO(lambda_zip_bytes())).namelist()
    assert callable(getattr(lambda_function, handler))
    assert (INFRA_TEMPLATE.parent / function["Code"]).resolve() == (REPO / DEFAULT_ZIP).resolve()
    variables = function["Environment"]["Variables"]
    assert variables["ENDPOINT_NAME"] == {"Ref": "EndpointName"}
    source = Path(lambda_function.__file__).read_text()
    for name in variables:  # every setting is one the function actually reads
        assert f'os.environ.get("{name}"' in source, name


def route_path(template: dict[str, Any], resource_name: str) -> str:
    """The URL path of an API Gateway resource, following ParentId up to the API's root."""
    resource = template["Resources"][resource_name]["Properties"]
    parent = resource["ParentId"]
    prefix = "" if parent == {"Fn::GetAtt": ["Api", "RootResourceId"]} else route_path(template, parent["Ref"])
    return f"{prefix}/{resource['PathPart']}"


def test_routes_are_the_local_gateway_paths_with_proxy_integration_and_cors(template: dict[str, Any]) -> None:
    methods = resources_of(template, "AWS::ApiGateway::Method")
    by_route = {(route_path(template, method["Properties"]["ResourceId"]["Ref"]), method["Properties"]["HttpMethod"]):
                method["Properties"] for method in methods.values()}
    assert set(by_route) == {(path, verb) for path in (SENTIMENT_ROUTE, FEEDBACK_ROUTE) for verb in ("POST", "OPTIONS")}
    for (path, verb), method in by_route.items():
        assert method["Integration"]["Type"] == "AWS_PROXY"
        assert "${Function.Arn}" in method["Integration"]["Uri"]["Fn::Sub"]
        if verb == "OPTIONS":
            assert method["ApiKeyRequired"] is False  # browsers send preflights without the key
        else:
            assert method["ApiKeyRequired"] == {"Fn::If": ["UseApiKey", True, False]}
    origin = {"Ref": "AllowedOrigin"}
    assert template["Resources"]["Function"]["Properties"]["Environment"]["Variables"]["CORS_ALLOW_ORIGIN"] == origin
    (deployment,) = resources_of(template, "AWS::ApiGateway::Deployment").values()
    assert set(methods) <= set(deployment["DependsOn"])  # the stage's snapshot has every method
    source_arn = template["Resources"]["ApiInvokesFunction"]["Properties"]["SourceArn"]["Fn::Sub"]
    for path, verb in by_route:  # execute-api ARNs end in <api>/<stage>/<verb>/<path>
        assert fnmatch.fnmatchcase(f"{source_arn.rsplit('${Api}', 1)[0]}${{Api}}/prod/{verb}{path}", source_arn)
    assert not fnmatch.fnmatchcase(f"{source_arn.rsplit('${Api}', 1)[0]}${{Api}}/prod/POST/other", source_arn)
    outputs = {name: output["Value"]["Fn::Sub"] for name, output in template["Outputs"].items()
               if name in ("ApiUrl", "FeedbackUrl")}
    assert outputs["ApiUrl"].endswith("/${Stage}" + SENTIMENT_ROUTE)
    # the page finds the feedback route by replacing the last segment of its API URL
    assert outputs["FeedbackUrl"] == outputs["ApiUrl"].rsplit("/", 1)[0] + "/feedback"
    assert outputs["FeedbackUrl"].endswith("/${Stage}" + FEEDBACK_ROUTE)


def test_api_key_and_usage_plan_exist_only_when_asked(template: dict[str, Any]) -> None:
    assert template["Conditions"]["UseApiKey"] == {"Fn::Equals": [{"Ref": "RequireApiKey"}, "true"]}
    for name in ("ApiKey", "UsagePlan", "UsagePlanKey"):
        assert template["Resources"][name]["Condition"] == "UseApiKey"
    plan = template["Resources"]["UsagePlan"]["Properties"]
    assert plan["Throttle"] == {"RateLimit": {"Ref": "ThrottleRateLimit"}, "BurstLimit": {"Ref": "ThrottleBurstLimit"}}
    assert plan["Quota"] == {"Limit": {"Ref": "DailyQuota"}, "Period": "DAY"}


# -- the web page as static files ------------------------------------------------------------------


def test_web_site_writes_the_page_with_the_api_url(tmp_path: Path) -> None:
    url = "https://a1b2c3.execute-api.us-east-1.amazonaws.com/prod/api/sentiment"
    result = CliRunner().invoke(web_site, ["--api-url", url, "--output", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output
    site = tmp_path / "site"
    shipped = {path.name for path in static_dir().iterdir() if path.is_file()}
    assert {path.name for path in site.iterdir()} == shipped | {"config.js"}
    for name in shipped:
        assert (site / name).read_bytes() == (static_dir() / name).read_bytes()
    assert re.fullmatch(r'window\.SENTIMENT_API_URL = (".*");\n', (site / "config.js").read_text())
    assert json.loads(re.search(r'= (".*");', (site / "config.js").read_text()).group(1)) == url
    index = (site / "index.html").read_text()
    assert index.index('src="config.js"') < index.index('src="app.js"')  # the setting is read first


@pytest.mark.parametrize("bad", ["ftp://example.com/api", "example.com/api", "//example.com/api", "javascript:1"])
def test_web_site_refuses_a_bad_api_url(tmp_path: Path, bad: str) -> None:
    result = CliRunner().invoke(web_site, ["--api-url", bad, "--output", str(tmp_path / "site")])
    assert result.exit_code == 2 and "http(s) URL" in result.output
    assert not (tmp_path / "site").exists()
