"""The model families: trained through the real entry point on real reviews, served by the real server.
(What needs no training run: ``tests/unit/test_models.py``.)"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import httpx
import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file

from sentiment_app.cli import main
from sentiment_app.data.dataset import load_imdb, split_by_movie, stratified_sample
from sentiment_app.errors import ArtifactError
from sentiment_app.features.prepare import read_texts, write_texts
from sentiment_app.inference.batch_transform import transform_file
from sentiment_app.inference.model import SentimentModel
from sentiment_app.models.ensemble import choose_weight
from sentiment_app.models.registry import MODELS
from sentiment_app.models.text_model import accuracy
from sentiment_app.models.metric_log import metric_definitions
from sentiment_app.serving.app import create_app
from sentiment_app.training.fit_text import load_text_channel
from tests.sagemaker_containers import run_entry_point
from tests.support import NEGATIVE, POSITIVE, running

TRAIN_REVIEWS = 1200
# Small enough to train in seconds, and (lr 0.01, 8 epochs) to rank the two test reviews apart for
# seeds 1 to 3 with a margin; 3 epochs at the default lr did not for two of them.
SMALL_LSTM = {"vocab_size": 4000, "embedding_dim": 16, "hidden_dim": 16, "max_len": 120, "epochs": 8, "patience": 3,
              "lr": 0.01, "batch_size": 32}
# Likewise for the region CNN (it labels both test reviews right for seeds 1 to 3).
SMALL_CNN = {"vocab_size": 4000, "hidden_dim": 32, "max_len": 120, "epochs": 8, "patience": 3, "lr": 0.01,
             "batch_size": 32}
HYPERPARAMETERS = {  # as a training job's HyperParameters: the toolkit turns them into the entry point's argv
    "nbsvm": {"hash_bits": 18},
    "nbsvm-stack": {"hash-bits": 18},
    "bilstm": SMALL_LSTM,
    "region-cnn": SMALL_CNN,
    "ensemble": {"nbsvm_hash_bits": 18, **{f"cnn_{key}": value for key, value in SMALL_CNN.items()}},
}


@pytest.fixture(scope="module")
def channel(tmp_path_factory, real_data: Path) -> Path:
    """A ``label,text`` training channel of real reviews, and a validation channel nobody may read."""
    folder = tmp_path_factory.mktemp("channels")
    write_texts(folder / "training" / "train.csv", stratified_sample(load_imdb(real_data)["train"], TRAIN_REVIEWS, 3))
    (folder / "validation").mkdir()
    (folder / "validation" / "test.csv").write_text("this is not a channel file\n")
    return folder


@pytest.fixture(scope="module")
def trained(channel: Path) -> dict[str, Path]:
    """Each text family trained through the entry point, run as the training container runs it (the
    training toolkit's argv and environment); its log fills every metric the job defines for it."""
    dirs = {}
    for name, hyperparameters in HYPERPARAMETERS.items():
        base = channel / "jobs" / name
        for part in ("training", "validation"):
            shutil.copytree(channel / part, base / "input" / "data" / part)
        done = run_entry_point(base, {"family": name, "seed": 2, **hyperparameters}, ["training", "validation"])
        assert done.returncode == 0, done.stderr[-3000:]
        for metric in metric_definitions(MODELS[name].metrics):
            assert re.search(metric["Regex"], done.stdout + done.stderr), f"{name}'s log gives SageMaker no {metric['Name']}"
        dirs[name] = base / "model"
    return dirs


@pytest.mark.slow  # trains through the entry point on real reviews (shared module fixture)
@pytest.mark.parametrize("name", list(HYPERPARAMETERS))
def test_family_serves_through_the_model_server(trained: dict[str, Path], name: str) -> None:
    with running(create_app(trained[name], endpoint_name="models-test")) as url:
        assert httpx.get(f"{url}/ping").status_code == 200
        reply = httpx.post(f"{url}/invocations", json={"instances": [POSITIVE, NEGATIVE]})
        assert reply.status_code == 200, reply.text
        positive, negative = (p["probability"] for p in reply.json()["predictions"])
        assert positive > negative
        if name != "bilstm":  # a BiLSTM on 1,080 reviews only ranks; the others must label
            assert [p["label"] for p in reply.json()["predictions"]] == ["positive", "negative"]
        plain = httpx.post(f"{url}/invocations", content=POSITIVE, headers={"Content-Type": "text/plain",
                                                                             "Accept": "text/plain"})
        assert plain.status_code == 200 and plain.text in ("1.0", "0.0")
    config = json.loads((trained[name] / "config.json").read_text())
    assert config["model"] == name and sorted(config["hyperparameters"]) == sorted(MODELS[name].hyperparameters)


@pytest.mark.slow  # trains through the entry point on real reviews (shared module fixture)
def test_ensemble_weight_is_chosen_on_the_validation_part_of_the_training_data(trained, channel: Path) -> None:
    model = SentimentModel.load(trained["ensemble"])
    config = json.loads((trained["ensemble"] / "config.json").read_text())
    _, val = split_by_movie(load_text_channel(channel / "training"), config["training"]["validation_fraction"],
                              config["training"]["seed"])
    assert model.metrics["validation_rows"] == len(val) == TRAIN_REVIEWS // 10
    members = model.text_model.members
    weight, accuracy = choose_weight(val.labels, members["nbsvm"].logits(val.texts), members["cnn"].logits(val.texts))
    assert config["state"]["weight_nbsvm"] == weight and model.metrics["val_accuracy"] == pytest.approx(accuracy)


@pytest.mark.slow  # trains through the entry point on real reviews (shared module fixture)
def test_region_cnn_stores_float16_tables_and_serves_the_weights_it_validated(trained, channel: Path) -> None:
    tensors = load_file(str(trained["region-cnn"] / "model.safetensors"))
    assert {k: v.dtype for k, v in tensors.items() if k.startswith("tables.")} == {
        f"tables.{i}.weight": torch.float16 for i in range(3)}
    assert tensors["dense.weight"].dtype == torch.float32
    model = SentimentModel.load(trained["region-cnn"])
    config = json.loads((trained["region-cnn"] / "config.json").read_text())
    _, val = split_by_movie(load_text_channel(channel / "training"), config["training"]["validation_fraction"],
                              config["training"]["seed"])
    assert accuracy(val.labels, model.text_model.logits(val.texts)) == model.metrics["val_accuracy"]


@pytest.mark.slow  # trains through the entry point on real reviews (shared module fixture)
def test_changed_weights_are_refused(trained: dict[str, Path], tmp_path: Path) -> None:
    copy = tmp_path / "nbsvm"
    copy.mkdir()
    for f in trained["nbsvm"].iterdir():
        copy.joinpath(f.name).write_bytes(f.read_bytes())
    data = bytearray((copy / "model.safetensors").read_bytes())
    data[-1] ^= 1
    (copy / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="checksum"):
        SentimentModel.load(copy)


@pytest.mark.slow  # trains through the entry point on real reviews (shared module fixture)
def test_batch_transform_reads_every_line_as_text_for_text_models(trained: dict[str, Path], tmp_path: Path) -> None:
    source = tmp_path / "reviews.txt"
    source.write_text(f"10\n{POSITIVE}\n1,2,3\n{NEGATIVE}\n")
    assert transform_file(SentimentModel.load(trained["nbsvm"]), source) == 0
    results = [json.loads(line) for line in (tmp_path / "reviews.txt.out").read_text().splitlines()]
    assert len(results) == 4 and [r["label"] for r in results[1::2]] == ["positive", "negative"]


@pytest.mark.slow  # trains through the entry point on real reviews (shared module fixture)
def test_pipeline_trains_a_text_model_from_the_text_channel(tmp_path: Path, real_data: Path) -> None:
    args = ["pipeline", "--home", str(tmp_path), "--data", str(real_data), "--max-reviews", "600",
            "--family", "nbsvm", "--hp", "hash_bits=18", "--json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout.strip().splitlines()[-1])
    assert metrics["accuracy"] > 0.7
    [train_csv] = (tmp_path / "store" / "sagemaker" / "sentiment_text").glob("*/train.csv")
    assert len(read_texts(train_csv).texts) == 600
    job = tmp_path / "jobs" / Path(metrics["model_dir"]).name
    assert not (job / "input" / "data" / "training" / "word_dict.json").exists()
    assert json.loads((job / "input" / "config" / "hyperparameters.json").read_text())["hash-bits"] == "18"
