"""Production variants as data: parsing (options, SageMaker's JSON), validation, the weighted router
and its weights file, bundled model names, and the command-line errors refused before any server
starts. (Real endpoints with variants: ``tests/system/test_variants.py``.)"""

from __future__ import annotations

import json
import os
import random
from collections import Counter
from pathlib import Path

import pytest

from sentiment_app.artifacts.locate import bundled_model_dir, bundled_name, resolve_model_dir
from sentiment_app.errors import SentimentAppError
from sentiment_app.serving import lifecycle
from sentiment_app.serving.variants import (
    DEFAULT_VARIANT, EndpointConfig, Router, VariantSpec, parse_weights, write_weights,
)
from sentiment_app.settings import load_settings
from tests.serving_support import endpoint_cli
from tests.support import Cli


@pytest.mark.parametrize("text, expected", [
    ("A=bundled:0.8", VariantSpec("A", "bundled", 0.8)),
    ("A=bundled", VariantSpec("A", "bundled", 1.0)),
    ("Blue-2=v3:0", VariantSpec("Blue-2", "v3", 0.0)),
    ("A=s3://bucket/run/model.tar.gz", VariantSpec("A", "s3://bucket/run/model.tar.gz", 1.0)),
    ("A=s3://bucket/run/model.tar.gz:2.5", VariantSpec("A", "s3://bucket/run/model.tar.gz", 2.5)),
])
def test_a_variant_option_names_its_model_and_takes_the_weight_after_the_last_colon(
        text: str, expected: VariantSpec) -> None:
    assert VariantSpec.parse(text) == expected


@pytest.mark.parametrize("text, message", [
    ("A", "is not NAME=MODEL:WEIGHT"),
    ("=bundled:1", "is not NAME=MODEL:WEIGHT"),
    ("A=", "is not NAME=MODEL:WEIGHT"),
    ("A=bundled:lots", "is not a number"),
    ("A=bundled:-1", "0 or more"),
    ("A=bundled:inf", "finite"),
    ("A=bundled:nan", "finite"),
])
def test_a_bad_variant_option_is_refused_clearly(text: str, message: str) -> None:
    with pytest.raises(SentimentAppError, match=message):
        VariantSpec.parse(text)


def test_a_shadow_option_has_no_weight() -> None:
    assert VariantSpec.parse("S=model:dir:0.5", shadow=True) == VariantSpec("S", "model:dir:0.5")


@pytest.mark.parametrize("production, shadows, message", [
    ((), (), "at least one production variant"),
    ((VariantSpec("A", "x"), VariantSpec("A", "y")), (), "repeated: A"),
    ((VariantSpec("A", "x"),), (VariantSpec("A", "y"),), "repeated: A"),
    ((VariantSpec("bad_name", "x"),), (), "Invalid variant name 'bad_name'"),
    ((VariantSpec("x-", "x"),), (), "Invalid variant name"),
    ((VariantSpec("a" * 64, "x"),), (), "Invalid variant name"),
    ((VariantSpec("A", "x", 0.0), VariantSpec("B", "y", 0.0)), (), "weight above 0"),
])
def test_an_endpoint_config_is_checked_whole(production: tuple, shadows: tuple, message: str) -> None:
    with pytest.raises(SentimentAppError, match=message):
        EndpointConfig(production, shadows)


def test_without_variants_one_model_takes_all_traffic_and_the_server_gets_plain_options() -> None:
    config = EndpointConfig.parse([], [], "/models/a")
    assert config.production == (VariantSpec(DEFAULT_VARIANT, "/models/a", 1.0),) and config.plain
    assert config.server_arguments() == ["--model", "/models/a"]
    assert config.summary() == "model /models/a"
    with pytest.raises(SentimentAppError, match="not both"):
        EndpointConfig.parse(["A=x:1"], [], "/models/a")


def test_variants_round_trip_through_the_server_options_and_json() -> None:
    config = EndpointConfig.parse(["A=/m/a:0.8", "B=/m/b:0.2"], ["S=/m/s"])
    assert not config.plain
    arguments = config.server_arguments()
    assert arguments == ["--variant", "A=/m/a:0.8", "--variant", "B=/m/b:0.2", "--shadow-variant", "S=/m/s"]
    assert EndpointConfig.parse(arguments[1::2][:2], arguments[5:6]) == config
    assert EndpointConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert config.weights == {"A": 0.8, "B": 0.2}
    assert config.with_weights({"B": 3}).weights == {"A": 0.8, "B": 3.0}
    with pytest.raises(SentimentAppError, match="No production variant named S"):
        config.with_weights({"S": 1})  # a shadow has no weight
    with pytest.raises(SentimentAppError, match="weight above 0"):
        config.with_weights({"A": 0, "B": 0})
    resolved = config.resolved(lambda source: Path("/resolved") / Path(str(source)).name)
    assert [v.model for v in (*resolved.production, *resolved.shadows)] == ["/resolved/a", "/resolved/b", "/resolved/s"]


def test_sagemakers_variants_document_is_read() -> None:
    document = {
        "ProductionVariants": [{"VariantName": "A", "ModelName": "bundled", "InitialVariantWeight": 0.8},
                               {"VariantName": "B", "ModelName": "lstm-seed"}],
        "ShadowProductionVariants": [{"VariantName": "S", "ModelName": "lstm-seed", "InitialVariantWeight": 1}],
    }
    config = EndpointConfig.from_document(document)
    assert config.production == (VariantSpec("A", "bundled", 0.8), VariantSpec("B", "lstm-seed", 1.0))
    assert config.shadows == (VariantSpec("S", "lstm-seed", 1.0),)


@pytest.mark.parametrize("document, message", [
    ([], "must be a JSON object"),
    ({"Variants": []}, "must be a JSON object"),
    ({"ProductionVariants": {}}, "must be a list"),
    ({"ProductionVariants": [{"VariantName": "A"}]}, "needs VariantName and ModelName"),
    ({"ProductionVariants": [{"VariantName": "A", "ModelName": 3}]}, "needs VariantName and ModelName"),
    ({"ProductionVariants": [{"VariantName": "A", "ModelName": "x", "InstanceType": "ml.m5.large"}]},
     "may have InitialVariantWeight"),
    ({"ProductionVariants": [{"VariantName": "A", "ModelName": "x", "InitialVariantWeight": "heavy"}]},
     "not a number"),
    ({"ProductionVariants": []}, "at least one production variant"),
])
def test_a_bad_variants_document_is_refused_clearly(document: object, message: str) -> None:
    with pytest.raises(SentimentAppError, match=message):
        EndpointConfig.from_document(document)


def test_weights_pairs() -> None:
    assert parse_weights(["A=0.5", "B=1"]) == {"A": 0.5, "B": 1.0}
    for bad, message in (("A", "not NAME=WEIGHT"), ("=1", "not NAME=WEIGHT"), ("A=x", "not a number")):
        with pytest.raises(SentimentAppError, match=message):
            parse_weights([bad])


def shares(router: Router, picks: int = 20_000) -> dict[str, float]:
    counts = Counter(router.choose() for _ in range(picks))
    return {name: counts[name] / picks for name in router.names}


def test_the_router_splits_by_relative_weight() -> None:
    random.seed(7)
    split = shares(Router({"A": 4, "B": 1}))  # relative: the same as 0.8 / 0.2
    assert abs(split["A"] - 0.8) < 0.02 and abs(split["B"] - 0.2) < 0.02
    assert shares(Router({"A": 0, "B": 2})) == {"A": 0.0, "B": 1.0}
    assert shares(Router({"Only": 1}), 10) == {"Only": 1.0}


def test_the_router_follows_its_weights_file_and_keeps_its_weights_when_the_file_is_bad(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "weights.json"
    router = Router({"A": 1, "B": 0}, path)
    assert shares(router, 50) == {"A": 1.0, "B": 0.0}  # no file yet: the weights it started with
    write_weights(path, {"A": 0, "B": 1})
    assert shares(router, 50) == {"A": 0.0, "B": 1.0}
    bad_files = (b"{not json", b'{"weights": {"A": 1, "C": 1}}', b'{"weights": {"A": 0, "B": 0}}', b"[]")
    for stamp, bad in enumerate(bad_files, start=1):
        path.write_bytes(bad)
        os.utime(path, ns=(stamp, stamp))  # a new identity even within the clock's resolution
        assert shares(router, 50) == {"A": 0.0, "B": 1.0}
    assert caplog.text.count("Ignoring the weights file") == len(bad_files)
    write_weights(path, {"A": 1})  # a variant not named keeps its weight
    assert 0.3 < shares(router, 2000)["A"] < 0.7 and router.weights == {"A": 1.0, "B": 1.0}
    with pytest.raises(SentimentAppError, match="weight above 0"):
        write_weights(path, {"A": 0, "B": 0})


def test_bundled_models_are_model_sources_by_name(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path, environ={})
    assert bundled_name("bundled") == "fast-encoder-stack" and bundled_name("lstm-seed") == "lstm-seed"
    assert [bundled_name(name) for name in ("./lstm-seed", "nbsvm", ".", "..", "")] == [None] * 5
    assert resolve_model_dir(settings, "bundled") == bundled_model_dir()
    assert resolve_model_dir(settings, "lstm-seed") == bundled_model_dir("lstm-seed")


@pytest.fixture()
def cli(tmp_path: Path) -> Cli:
    return endpoint_cli(tmp_path)


@pytest.mark.parametrize("args, message", [
    (["--variant", "A=bundled:0.5", "--model", "bundled"], "either --model or --variant"),
    (["--variant", "A"], "is not NAME=MODEL:WEIGHT"),
    (["--variant", "A=no/such/model:1"], "does not exist"),
    (["--variant", "A=bundled:1", "--variant", "A=lstm-seed:1"], "repeated: A"),
    (["--variant", "A=bundled:0", "--variant", "B=lstm-seed:0"], "weight above 0"),
    (["--shadow-variant", "S=no/such/model"], "does not exist"),
    (["--capture-percent", "101"], "0<=x<=100"),
])
def test_endpoint_create_refuses_bad_variants_before_starting(cli: Cli, args: list[str], message: str) -> None:
    assert message in cli("create", "refused", *args, ok=False).output


def test_endpoint_create_refuses_a_bad_variants_file(cli: Cli, tmp_path: Path) -> None:
    document = tmp_path / "variants.json"
    document.write_text(json.dumps({"ProductionVariants": [{"VariantName": "A", "ModelName": "no/such/model"}]}))
    assert "does not exist" in cli("create", "refused", "--variants", str(document), ok=False).output
    document.write_text("{")
    assert "--variants" in cli("create", "refused", "--variants", str(document), ok=False).output
    assert "holds all the variants" in cli("create", "refused", "--variants", str(document), "--model", "bundled",
                                           ok=False).output


def test_update_weights_needs_an_endpoint_and_good_pairs(cli: Cli) -> None:
    assert "No endpoint named" in cli("update-weights", "missing", "A=1", ok=False).output
    assert "not NAME=WEIGHT" in cli("update-weights", "missing", "A", ok=False).output


def test_update_weights_refuses_an_endpoint_that_is_not_running(tmp_path: Path, cli: Cli) -> None:
    settings = load_settings(home=tmp_path, environ={})
    config = EndpointConfig.parse(["A=/m/a:1", "B=/m/b:1"])
    lifecycle.save(settings, lifecycle.Endpoint(
        name="stopped", model_dir="/m/a", host="127.0.0.1", port=1, pid=0, pid_started=0.0, status=lifecycle.FAILED,
        created_at="2026-12-01T16:20:00+00:00", variants=config.to_dict()))
    assert "only a running endpoint" in cli("update-weights", "stopped", "A=0", ok=False).output
    described = cli("describe", "stopped").output
    assert "A        1       50 %   /m/a" in described and "Data capture: off" in described
