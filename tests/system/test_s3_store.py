"""The S3 store against a real S3-protocol server (moto's standalone server) on loopback.

boto3 is pointed at the server only through the standard ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_S3``
settings, with dummy credentials, exactly as a user would point it at MinIO or another S3-compatible store.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from sentiment_app.cli import main
from sentiment_app.errors import ArtifactError
from sentiment_app.store import open_store
from sentiment_app.store.s3 import S3Store
from tests.aws_support import moto_server
from tests.support import NEGATIVE, POSITIVE, free_port

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def aws_env(s3_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Dummy credentials and the endpoint, with the user's own AWS config files out of the way."""
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server)
    return s3_server


@pytest.fixture
def s3(aws_env: str):
    """A raw client on the same server, to look at (and tamper with) objects behind the store's back."""
    return boto3.session.Session().client("s3")


@pytest.fixture
def bucket(s3) -> str:
    name = f"sentiment-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def test_open_store_gives_s3_store_that_uses_the_endpoint_setting(bucket, aws_env) -> None:
    store = open_store(f"s3://{bucket}/runs/one/")
    assert isinstance(store, S3Store) and store.uri == f"s3://{bucket}/runs/one"
    assert store._client.meta.endpoint_url == aws_env  # boto3 resolved it; the store sets nothing


def test_service_specific_endpoint_wins(bucket, aws_env, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", aws_env)
    store = S3Store(f"s3://{bucket}/p")
    store.put_bytes("a.txt", b"hello")
    assert store.read_bytes("a.txt") == b"hello"


def test_round_trip_of_files_and_bytes(bucket, s3, tmp_path) -> None:
    store = S3Store(f"s3://{bucket}/prefix")
    source = tmp_path / "train.csv"
    source.write_bytes(os.urandom(100_000))
    assert store.put_file("data/train.csv", source) == f"s3://{bucket}/prefix/data/train.csv"
    assert store.put_bytes("data/word_dict.json", b'{"movi": 2}') == f"s3://{bucket}/prefix/data/word_dict.json"

    target = store.get_file("data/train.csv", tmp_path / "copy" / "train.csv")
    assert target.read_bytes() == source.read_bytes()
    assert store.read_bytes("data/word_dict.json") == b'{"movi": 2}'
    head = s3.head_object(Bucket=bucket, Key="prefix/data/train.csv")
    assert head["Metadata"]["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert sorted(p.name for p in target.parent.iterdir()) == ["train.csv"]  # no temp files left


def test_exists_and_list_with_prefix(bucket, s3) -> None:
    store = S3Store(f"s3://{bucket}/root")
    for key in ("a/one.csv", "a/two.csv", "a/sub/three.csv", "ab/four.csv", "z.json"):
        store.put_bytes(key, key.encode())
    s3.put_object(Bucket=bucket, Key="elsewhere/x.csv", Body=b"not in the store")
    assert store.exists("a/one.csv") and not store.exists("a/nope.csv") and not store.exists("a")
    assert store.list() == ["a/one.csv", "a/sub/three.csv", "a/two.csv", "ab/four.csv", "z.json"]
    assert store.list("a") == ["a/one.csv", "a/sub/three.csv", "a/two.csv"]  # a folder, not a string prefix
    assert store.list("a/") == store.list("a")
    assert store.list("z.json") == ["z.json"] and store.list("missing") == []


def test_large_file_goes_up_in_parts_and_comes_back_intact(bucket, s3, tmp_path) -> None:
    store = S3Store(f"s3://{bucket}/big", multipart_threshold=5 * MiB)
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(11 * MiB))
    store.put_file("big.bin", source)
    head = s3.head_object(Bucket=bucket, Key="big/big.bin")
    assert head["ETag"].strip('"').endswith("-3")  # 5 + 5 + 1 MiB parts
    assert head["ContentLength"] == 11 * MiB
    back = store.get_file("big.bin", tmp_path / "back.bin")
    assert hashlib.sha256(back.read_bytes()).digest() == hashlib.sha256(source.read_bytes()).digest()


def test_small_file_is_a_single_part_with_s3s_own_checksum(bucket, s3, tmp_path) -> None:
    store = S3Store(f"s3://{bucket}/small")
    store.put_bytes("x.txt", b"x" * 1000)
    head = s3.head_object(Bucket=bucket, Key="small/x.txt", ChecksumMode="ENABLED")
    assert "-" not in head["ETag"]
    assert head["ChecksumSHA256"]  # S3 checked the SHA-256 the upload sent


def test_replaced_object_fails_the_checksum_and_leaves_no_file(bucket, s3, tmp_path) -> None:
    store = S3Store(f"s3://{bucket}/p")
    store.put_bytes("model.tar.gz", b"the real archive")
    original = s3.head_object(Bucket=bucket, Key="p/model.tar.gz")["Metadata"]
    # Same metadata, other bytes: what silent corruption or a swapped object looks like to a reader.
    s3.put_object(Bucket=bucket, Key="p/model.tar.gz", Body=b"something else!!", Metadata=original)
    folder = tmp_path / "download"
    folder.mkdir()
    with pytest.raises(ArtifactError, match="Checksum mismatch for s3://.*/p/model.tar.gz"):
        store.get_file("model.tar.gz", folder / "model.tar.gz")
    assert list(folder.iterdir()) == []
    with pytest.raises(ArtifactError, match="Checksum mismatch"):
        store.read_bytes("model.tar.gz")


def test_replaced_object_keeps_the_previous_good_file(bucket, s3, tmp_path) -> None:
    store = S3Store(f"s3://{bucket}/p")
    store.put_bytes("train.csv", b"1,2,3\n")
    target = store.get_file("train.csv", tmp_path / "train.csv")
    s3.put_object(Bucket=bucket, Key="p/train.csv", Body=b"9,9,9\n",
                  Metadata=s3.head_object(Bucket=bucket, Key="p/train.csv")["Metadata"])
    with pytest.raises(ArtifactError, match="Checksum mismatch"):
        store.get_file("train.csv", target)
    assert target.read_bytes() == b"1,2,3\n"
    assert [p.name for p in tmp_path.iterdir()] == ["train.csv"]


def test_foreign_object_without_our_metadata_still_downloads(bucket, s3, tmp_path) -> None:
    s3.put_object(Bucket=bucket, Key="in/reviews.txt", Body=b"uploaded by another tool\n")
    store = S3Store(f"s3://{bucket}/in")
    assert store.get_file("reviews.txt", tmp_path / "r.txt").read_bytes() == b"uploaded by another tool\n"


def test_missing_bucket_and_key_are_clear_errors(bucket, aws_env, tmp_path) -> None:
    missing = S3Store("s3://no-such-bucket-here/p")
    with pytest.raises(ArtifactError, match="bucket 'no-such-bucket-here' does not exist"):
        missing.put_bytes("a", b"1")
    with pytest.raises(ArtifactError, match="bucket 'no-such-bucket-here' does not exist"):
        missing.exists("a")
    with pytest.raises(ArtifactError, match="does not exist"):
        S3Store(f"s3://{bucket}/p").get_file("nothing.csv", tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_no_credentials_is_a_clear_error(bucket, monkeypatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(ArtifactError, match="no AWS credentials found"):
        S3Store(f"s3://{bucket}/p").put_bytes("a", b"1")


def test_cli_reports_a_missing_bucket_in_one_line(aws_env, tmp_path) -> None:
    source = tmp_path / "reviews.txt"
    source.write_text(POSITIVE + "\n")
    result = CliRunner().invoke(main, ["batch-transform", str(source), "--home", str(tmp_path / "home"),
                                       "--output", "s3://no-such-bucket-here/out/"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip().splitlines() == [
        "error: S3 bucket 'no-such-bucket-here' does not exist (store s3://no-such-bucket-here/out)"]
    assert not (tmp_path / "reviews.txt.out").exists()


def test_batch_transform_reads_and_writes_s3(bucket, s3, tmp_path) -> None:
    s3.put_object(Bucket=bucket, Key="in/test.csv", Body=f"{POSITIVE}\n\n{NEGATIVE}\n".encode())
    home = str(tmp_path / "home")
    result = CliRunner().invoke(main, ["batch-transform", f"s3://{bucket}/in/test.csv", "--output", f"s3://{bucket}/out/",
                                       "--home", home])
    assert result.exit_code == 0, result.output
    assert "3 lines, 1 errors" in result.output and f"s3://{bucket}/out/test.csv.out" in result.output
    lines = S3Store(f"s3://{bucket}/out").read_bytes("test.csv.out").decode().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r.get("label") for r in records] == ["positive", None, "negative"]
    assert records[1] == {"error": "empty line", "line": 2}

    # Default output: <input>.out next to the input, as bare labels.
    result = CliRunner().invoke(main, ["batch-transform", "--input", f"s3://{bucket}/in/test.csv",
                                       "--accept", "text/plain", "--home", home])
    assert result.exit_code == 0, result.output
    body = s3.get_object(Bucket=bucket, Key="in/test.csv.out")["Body"].read().decode()
    assert body.splitlines()[0] == "1.0" and body.splitlines()[2] == "0.0"


def test_batch_transform_takes_a_key_of_the_store(bucket, tmp_path) -> None:
    store = S3Store(f"s3://{bucket}/st")
    store.put_bytes("batch/reviews.txt", f"{NEGATIVE}\n".encode())
    result = CliRunner().invoke(main, ["batch-transform", "batch/reviews.txt", "--store", f"s3://{bucket}/st",
                                       "--home", str(tmp_path / "home")])
    assert result.exit_code == 0, result.output
    assert json.loads(store.read_bytes("batch/reviews.txt.out"))["label"] == "negative"
    result = CliRunner().invoke(main, ["batch-transform", "batch/missing.txt", "--store", f"s3://{bucket}/st",
                                       "--home", str(tmp_path / "home")])
    assert result.exit_code == 1 and "neither a local file nor a key in the store" in result.output


def test_batch_transform_of_a_local_file_does_not_touch_an_s3_store(aws_env, tmp_path, monkeypatch) -> None:
    """A local file named without ``./`` is read as a file, not looked up in the store first."""
    monkeypatch.chdir(tmp_path)
    Path("reviews.txt").write_text(f"{POSITIVE}\n")
    result = CliRunner().invoke(main, ["batch-transform", "reviews.txt", "--store", "s3://no-such-bucket-here/x",
                                       "--home", str(tmp_path / "home")])
    assert result.exit_code == 0, result.output
    assert json.loads(Path("reviews.txt.out").read_text())["label"] == "positive"


def test_batch_transform_local_output_folder(bucket, s3, tmp_path) -> None:
    s3.put_object(Bucket=bucket, Key="reviews.txt", Body=f"{POSITIVE}\n".encode())
    out = tmp_path / "results"
    out.mkdir()
    result = CliRunner().invoke(main, ["batch-transform", f"s3://{bucket}/reviews.txt", "--output", str(out),
                                       "--home", str(tmp_path / "home")])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "reviews.txt.out").read_text())["label"] == "positive"
    result = CliRunner().invoke(main, ["batch-transform", f"s3://{bucket}/reviews.txt", "--input", "x",
                                       "--home", str(tmp_path / "home")])
    assert result.exit_code == 2 and "give the input once" in result.output


def test_prepare_writes_the_channels_to_s3(bucket, s3, real_data, tmp_path) -> None:
    store_uri = f"s3://{bucket}/project"
    args = ["prepare", "--store", store_uri, "--home", str(tmp_path / "home"), "--data", str(real_data),
            "--max-reviews", "40", "--vocab-size", "200"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    store = S3Store(store_uri)
    keys = store.list("sagemaker/sentiment_rnn")
    [prefix] = {key.rpartition("/")[0] for key in keys}
    assert sorted(key.rpartition("/")[2] for key in keys) == ["meta.json", "test.csv", "train.csv", "word_dict.json"]
    assert f"at {store_uri}/{prefix}" in result.output
    rows = store.read_bytes(f"{prefix}/train.csv").decode().splitlines()
    assert len(rows) == 40 and all(len(row.split(",")) == 502 for row in rows)
    assert {row.split(",")[0] for row in rows} == {"0", "1"}
    assert len(json.loads(store.read_bytes(f"{prefix}/word_dict.json"))) == 198
    assert not (tmp_path / "home" / "store").exists()  # nothing went to the local default store

    # Settings precedence: the environment variable selects the same store, and the cached data is found.
    result = CliRunner().invoke(main, args[:1] + args[3:], env={"SENTIMENT_APP_STORE": store_uri})
    assert result.exit_code == 0 and f"at {store_uri}/{prefix}" in result.output
    assert store.list("sagemaker/sentiment_rnn") == keys


@pytest.mark.slow
def test_training_job_reads_channels_from_s3_and_publishes_the_archive(bucket, real_data, tmp_path) -> None:
    store_uri = f"s3://{bucket}/project"
    home = tmp_path / "home"
    args = ["--home", str(home), "--data", str(real_data), "--max-reviews", "60", "--vocab-size", "300",
            "--epochs", "1", "--batch-size", "32", "--embedding-dim", "8", "--hidden-dim", "8"]
    result = CliRunner().invoke(main, ["train", "--store", store_uri, *args])
    assert result.exit_code == 0, result.output
    name = re.search(r"^job (\S+): model", result.stdout, re.M).group(1)
    archive_key = f"jobs/{name}/output/model.tar.gz"
    assert f"archive {store_uri}/{archive_key}" in result.stdout
    store = S3Store(store_uri)
    local_archive = home / "jobs" / name / "output" / "model.tar.gz"
    assert store.read_bytes(archive_key) == local_archive.read_bytes()
    assert "registered as version 1 (PendingManualApproval)" in result.stdout
    mirrored = json.loads(store.read_bytes("registry/registry.json"))["versions"]  # the registry, mirrored
    assert [(v["version"], Path(v["model_dir"]).name) for v in mirrored] == [(1, name)]
    with tarfile.open(local_archive) as archive:
        assert {"model.safetensors", "manifest.json", "code/inference.py"} <= set(archive.getnames())
    # The job's channels came out of S3 into its local /opt/ml-like folder.
    [train_key] = [k for k in store.list("sagemaker") if k.endswith("/train.csv")]
    channel = home / "jobs" / name / "input" / "data" / "training" / "train.csv"
    assert channel.read_bytes() == store.read_bytes(train_key)

    # The finished job, asked for again with another store, is not rerun but publishes its archive there.
    other = f"s3://{bucket}/other"
    result = CliRunner().invoke(main, ["train", "--store", other, *args])
    assert result.exit_code == 0, result.output
    assert "epoch" not in result.output
    assert S3Store(other).read_bytes(archive_key) == local_archive.read_bytes()


def test_batch_transform_takes_a_prefix_as_a_transform_job_does(bucket, s3, tmp_path) -> None:
    """``s3://bucket/in/`` (S3Prefix): every object under it, each to ``<path under the prefix>.out``."""
    s3.put_object(Bucket=bucket, Key="in/a.txt", Body=f"{POSITIVE}\n".encode())
    s3.put_object(Bucket=bucket, Key="in/part/b.txt", Body=f"{NEGATIVE}\n\n".encode())
    s3.put_object(Bucket=bucket, Key="other/c.txt", Body=f"{POSITIVE}\n".encode())
    home = str(tmp_path / "home")
    result = CliRunner().invoke(main, ["batch-transform", f"s3://{bucket}/in/", "--output", f"s3://{bucket}/out/",
                                       "--home", home])
    assert result.exit_code == 0, result.output
    assert "2 files, 1 errors" in result.output
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="out/")["Contents"]
    assert sorted(item["Key"] for item in listed) == ["out/a.txt.out", "out/part/b.txt.out"]
    read = lambda key: [json.loads(line) for line in s3.get_object(Bucket=bucket, Key=key)["Body"].read().splitlines()]  # noqa: E731
    assert read("out/a.txt.out")[0]["label"] == "positive"
    assert [r.get("label") for r in read("out/part/b.txt.out")] == ["negative", None]

    inside = [CliRunner().invoke(main, ["batch-transform", f"s3://{bucket}/in/", "--output", f"s3://{bucket}/in/out/",
                                        "--home", home]) for _ in range(2)]
    assert [r.exit_code for r in inside] == [0, 0] and "2 files, 1 errors" in inside[1].output  # outputs not re-read
    assert len(s3.list_objects_v2(Bucket=bucket, Prefix="in/out/")["Contents"]) == 2

    no_output = CliRunner().invoke(main, ["batch-transform", f"s3://{bucket}/in/", "--home", home])
    assert no_output.exit_code == 2 and "needs --output FOLDER/" in no_output.output
    empty = CliRunner().invoke(main, ["batch-transform", f"s3://{bucket}/none/", "--output", str(tmp_path) + "/",
                                      "--home", home])
    assert empty.exit_code == 1 and "holds no files" in empty.output


def test_model_may_be_an_s3_model_tar_gz(bucket, tmp_path) -> None:
    """``--model s3://.../model.tar.gz`` (a SageMaker ModelDataUrl): fetched, verified, unpacked once."""
    from sentiment_app.artifacts.model_dir import pack_model_archive
    from sentiment_app.artifacts.locate import bundled_model_dir

    archive = pack_model_archive(bundled_model_dir(), tmp_path / "model.tar.gz")
    S3Store(f"s3://{bucket}/models").put_file("model.tar.gz", archive)
    source = tmp_path / "reviews.txt"
    source.write_text(f"{NEGATIVE}\n")
    home = str(tmp_path / "home")
    for _ in range(2):
        result = CliRunner().invoke(main, ["batch-transform", str(source), "--model", f"s3://{bucket}/models/model.tar.gz",
                                           "--home", home])
        assert result.exit_code == 0, result.output
        assert json.loads((tmp_path / "reviews.txt.out").read_text())["label"] == "negative"
    assert len(list((tmp_path / "home" / "models" / ".archives").iterdir())) == 1  # unpacked once, by content
    missing = CliRunner().invoke(main, ["batch-transform", str(source), "--model", f"s3://{bucket}/models/none.tar.gz",
                                        "--home", home])
    assert missing.exit_code == 1 and "Traceback" not in missing.output and "none.tar.gz" in missing.output
    local_missing = CliRunner().invoke(main, ["batch-transform", str(source), "--model", str(tmp_path / "nope")])
    assert local_missing.exit_code == 2 and "does not exist" in local_missing.output
