"""The model registry: numbered versions, idempotent registration, statuses, concurrent writers, the
store mirror, ``--model N``, the approved-only default and ``--approve-if-better``'s rule."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from sentiment_app.artifacts import versions
from sentiment_app.artifacts.locate import bundled_model_dir, resolve_model_dir
from sentiment_app.cli import main
from sentiment_app.errors import ArtifactError
from sentiment_app.settings import Settings, load_settings
from sentiment_app.store import open_store
from tests.aws_support import BUCKET, Recorder
from tests.support import cli_in_home


def trained(home: Path, name: str) -> Path:
    """A model folder as a training job leaves it (a copy of the small bundled LSTM)."""
    return Path(shutil.copytree(bundled_model_dir("lstm-seed"), home / "models" / name))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(home=tmp_path / "home", environ={})


def test_versions_are_numbered_and_registering_a_folder_again_keeps_its_version(settings: Settings) -> None:
    first, second = trained(settings.home, "job-a"), trained(settings.home, "job-b")
    assert [versions.register(settings, p)["version"] for p in (first, second, first, second)] == [1, 2, 1, 2]
    one = versions.get_version(settings, "v1")
    assert one["family"] == "lstm-seed" and one["status"] == versions.PENDING and one["model_dir"] == str(first)
    assert one["data_fingerprint"] == json.loads((first / "manifest.json").read_text())["data_fingerprint"]
    assert one["created"] and versions.get_version(settings, 1) == one
    assert [v["version"] for v in versions.read_versions(settings)] == [1, 2]
    with pytest.raises(ArtifactError, match="No model version 3 in .*registry.json"):
        versions.get_version(settings, "3")
    versions.registry_file(settings).write_text("{")
    with pytest.raises(ArtifactError, match="registry.json is not a model registry"):
        versions.read_versions(settings)


def test_two_writers_at_once_lose_no_version(settings: Settings) -> None:
    folders = [trained(settings.home, f"job-{n}") for n in range(8)]
    start = threading.Barrier(len(folders))
    numbers: list[int] = []

    def register(folder: Path) -> None:
        start.wait()
        numbers.append(versions.register(settings, folder)["version"])

    threads = [threading.Thread(target=register, args=(folder,)) for folder in folders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(numbers) == list(range(1, 9))
    assert sorted(v["model_dir"] for v in versions.read_versions(settings)) == sorted(map(str, folders))


def test_only_an_approved_version_is_the_default_and_a_version_names_a_model(settings: Settings) -> None:
    first, second = trained(settings.home, "job-a"), trained(settings.home, "job-b")
    for folder in (first, second):
        versions.register(settings, folder)
    assert resolve_model_dir(settings) == bundled_model_dir()  # pending versions never serve by default
    assert resolve_model_dir(settings, "2") == resolve_model_dir(settings, "v2") == second
    versions.set_status(settings, 1, versions.APPROVED)
    assert resolve_model_dir(settings) == first
    versions.set_status(settings, 2, versions.APPROVED)
    assert resolve_model_dir(settings) == second  # the newest approved
    versions.set_status(settings, 2, versions.REJECTED)
    assert resolve_model_dir(settings) == first
    shutil.rmtree(first)
    with pytest.raises(ArtifactError, match="Model version 1's folder .* is gone"):
        resolve_model_dir(settings)


def test_each_write_is_mirrored_to_an_s3_store(aws: Recorder, tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path / "home", store=f"s3://{BUCKET}/store", environ={})
    versions.register(settings, trained(settings.home, "job-a"))
    versions.set_status(settings, "v1", versions.APPROVED)
    mirrored = json.loads(open_store(settings.store).read_bytes(versions.STORE_KEY))
    assert mirrored == json.loads(versions.registry_file(settings).read_text())
    assert mirrored["versions"][0]["status"] == versions.APPROVED


def evaluated(settings: Settings, name: str, **figures: float) -> int:
    """A registered version with these figures recorded (short: yelp and amazon both ``short``)."""
    folder = trained(settings.home, name)
    number = versions.register(settings, folder)["version"]
    if "short" in figures:
        figures["short"] = {"imdb": 0.0, "yelp": figures["short"], "amazon": figures["short"]}
    versions.record_metrics(settings, folder, figures)
    return number


def test_approve_if_better_follows_the_rule_on_the_figures_both_have(settings: Settings) -> None:
    first = evaluated(settings, "a", val_accuracy=0.80, short=0.70, behaviour_pass_rate=0.50)
    assert versions.approve_if_better(settings, first) == (True, "version 1 approved: no version was approved before")
    assert versions.approve_if_better(settings, first) == (False, "version 1 is Approved already; left as it is")
    worse = evaluated(settings, "b", val_accuracy=0.90, short=0.60, behaviour_pass_rate=0.40)  # mean 0.633 < 0.667
    approved, why = versions.approve_if_better(settings, worse)
    assert not approved and versions.get_version(settings, worse)["status"] == versions.PENDING
    assert why == ("version 2 left pending: mean of behaviour_pass_rate, short_other_products, val_accuracy: "
                   "0.6333 vs 0.6667 for approved version 1")
    no_validation = evaluated(settings, "c", short=0.75, behaviour_pass_rate=0.55)  # compared on two figures
    approved, why = versions.approve_if_better(settings, no_validation)
    assert approved and "mean of behaviour_pass_rate, short_other_products: 0.6500 vs 0.6000" in why
    assert resolve_model_dir(settings) == settings.home / "models" / "c"
    nothing_shared = evaluated(settings, "d", val_accuracy=0.99)
    assert versions.approve_if_better(settings, nothing_shared) == (
        False, "version 4 left pending: it shares no figure of the rule with approved version 3")
    versions.set_status(settings, worse, versions.REJECTED)
    assert not versions.approve_if_better(settings, worse)[0]  # a person's rejection stands


def test_models_commands_list_describe_approve_and_reject(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = load_settings(home=home, environ={})
    folder = trained(home, "job-a")
    versions.register(settings, folder)
    versions.record_metrics(settings, folder, {"accuracy": 0.875})
    listed = cli_in_home(home, "models", "versions")
    assert listed.exit_code == 0 and "PendingManualApproval  lstm-seed  -        0.8750" in listed.output
    assert json.loads(cli_in_home(home, "models", "versions", "--json").output)[0]["version"] == 1
    described = cli_in_home(home, "models", "describe", "v1")
    assert "status:           PendingManualApproval" in described.output and '"accuracy":' not in described.output
    assert "  accuracy:             0.875" in described.output
    assert json.loads(cli_in_home(home, "models", "describe", "1", "--json").output)["model_dir"] == str(folder)
    approved = cli_in_home(home, "models", "approve", "1")
    assert approved.output == "Version 1 is Approved; by default serve and endpoint create use version 1.\n"
    rejected = cli_in_home(home, "models", "reject", "v1")
    assert rejected.output == "Version 1 is Rejected; by default serve and endpoint create use the bundled model.\n"
    missing = cli_in_home(home, "models", "approve", "7")
    assert missing.exit_code == 1 and "error: No model version 7 in" in missing.output
    assert "No model versions yet" in cli_in_home(tmp_path / "empty", "models", "versions").output


def test_model_option_takes_a_version_and_records_the_behavioural_checks(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = load_settings(home=home, environ={})
    versions.register(settings, trained(home, "job-a"))
    done = CliRunner().invoke(main, ["check", "--home", str(home), "--model", "v1", "--json"])
    assert done.exit_code == 0, done.output
    pass_rate = json.loads(done.output.strip().splitlines()[-1])["pass_rate"]
    assert versions.get_version(settings, 1)["metrics"]["behaviour_pass_rate"] == pass_rate
    unknown = CliRunner().invoke(main, ["check", "--home", str(home), "--model", "v9"])
    assert unknown.exit_code == 1 and "No model version v9" in unknown.output
