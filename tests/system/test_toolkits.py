"""The project read against the code that runs inside SageMaker's containers: the training toolkit
builds the entry point's argv and environment, the inference toolkit's Transformer answers requests
with the model archive's ``code/inference.py``. (The fake AWS containers of the ``aws`` tests use the
same oracles: ``tests/sagemaker_containers.py``.)"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sentiment_app.artifacts.archive import safe_extract
from sentiment_app.artifacts.locate import bundled_model_dir
from sentiment_app.artifacts.model_dir import pack_model_archive
from sentiment_app.aws.transform import read_probabilities, transform_request
from sentiment_app.data.dataset import load_imdb
from sentiment_app.wire import MAX_REVIEWS
from sentiment_app.inference.batch_transform import transform_file
from sentiment_app.inference.model import SentimentModel
from sentiment_app.models.registry import MODELS
from sentiment_app.pipeline import write_review_lines
from sentiment_app.store.local import LocalStore
from sentiment_app.training import job
from sentiment_app.training.arguments import hyperparameters, parse_args
from tests.sagemaker_containers import ServingContainer, multirecord_payloads, toolkit_environment
from tests.support import NEGATIVE, POSITIVE

# What the entry point reads, of the variables the toolkit sets: the local job must set them alike.
READ_BY_THE_ENTRY_POINT = ("SM_MODEL_DIR", "SM_CHANNEL_TRAINING", "SM_HOSTS", "SM_CURRENT_HOST", "SM_NUM_GPUS",
                           "SM_CHANNELS", "SM_HPS", "SM_USER_ARGS", "SM_INPUT_DIR", "SM_OUTPUT_DIR",
                           "SM_OUTPUT_DATA_DIR", "SM_INPUT_CONFIG_DIR")


def as_json(value: str) -> object:
    try:
        return json.loads(value)
    except ValueError:
        return value


@pytest.mark.parametrize("family", sorted(MODELS))
def test_the_local_job_runs_the_entry_point_as_the_training_toolkit_would(tmp_path: Path, family: str) -> None:
    """For every family's hyperparameters (one-letter ``C`` included), the local job's argv and
    ``SM_*`` variables are those the toolkit builds from the same ``input/config``, and the entry
    point's parser takes that argv back to the same values."""
    spec = MODELS[family]
    hp = {"family": family, "seed": 1, **{key.replace("_", "-"): value for key, value in spec.hyperparameters.items()}}
    store = LocalStore(tmp_path / "store")
    channels = job._lay_out(tmp_path / "job", store, {"training": {}}, hp)
    (tmp_path / "job" / "input" / "data" / "training").mkdir(parents=True)
    argv, toolkit_env = toolkit_environment(tmp_path / "job")
    assert job.entry_command(hp)[3:] == argv  # after: python -m sentiment_app.training.train
    local_env = job._environment(tmp_path / "job", "a-job", hp, channels)
    for name in READ_BY_THE_ENTRY_POINT:
        assert as_json(local_env[name]) == as_json(toolkit_env[name]), name
    parsed = parse_args(argv, "")
    assert parsed.family == family and hyperparameters(parsed) == spec.hyperparameters


@pytest.fixture(scope="module")
def serving(tmp_path_factory) -> ServingContainer:
    """The bundled model as ``model.tar.gz`` unpacked in a serving container's model folder."""
    folder = tmp_path_factory.mktemp("serving")
    archive = pack_model_archive(bundled_model_dir(), folder / "model.tar.gz")
    return ServingContainer(safe_extract(archive, folder / "model"))


@pytest.mark.parametrize("body, content_type, accept, status", [
    (POSITIVE.encode(), "text/plain", "application/json", 200),
    (b"", "text/plain", "application/json", 400),
    (b"\xff\xfe bad bytes", "text/plain", "application/json", 400),
    (json.dumps({"instances": ["fine", ""]}).encode(), "application/json", "application/json", 400),
    (rb'{"review": "bad \ud800 film"}', "application/json", "application/json", 400),
    (json.dumps({"instances": ["fine film"] * (MAX_REVIEWS + 1)}).encode(), "application/json", "application/json", 400),
    (POSITIVE.encode(), "image/png", "application/json", 415),
    (POSITIVE.encode(), "text/plain", "image/png", 406),
])
def test_the_handlers_refusals_keep_their_status_in_the_serving_container(
        serving: ServingContainer, body: bytes, content_type: str, accept: str, status: int) -> None:
    """The toolkit answers any other exception with 500; the handler's refusals are its own error class."""
    code, answer, _ = serving.invoke(body, content_type, accept)
    assert code == status, answer


def test_a_container_answer_is_the_handlers(serving: ServingContainer) -> None:
    code, answer, content_type = serving.invoke(f"{POSITIVE}\n{NEGATIVE}\n".encode(), "text/csv")
    reply = json.loads(answer)
    assert (code, content_type) == (200, "application/json")
    assert [p["label"] for p in reply["predictions"]] == ["positive", "negative"]


@pytest.mark.slow  # the whole test split, twice
def test_the_test_split_in_multirecord_payloads_gets_the_local_transforms_answers(
        tmp_path: Path, real_data: Path, serving: ServingContainer) -> None:
    """As ``aws transform`` sends it: one review per line, cut at ``\\n`` only (331 test reviews hold
    U+0085) into payloads of ``MaxPayloadInMB``; every payload is answered, one answer per record,
    equal to the local batch transform's."""
    texts = load_imdb(real_data)["test"].texts
    source = write_review_lines(tmp_path / "test_reviews.csv", texts)
    assert sum("\x85" in text for text in texts) > 0
    request = transform_request("job", "model", "s3://b/in/", "s3://b/out/", "ml.m5.large")
    payloads = list(multirecord_payloads(source.read_bytes(), request["MaxPayloadInMB"]))
    assert max(payload.count(b"\n") for payload in payloads) <= MAX_REVIEWS
    answers = []
    for payload in payloads:
        code, answer, _ = serving.invoke(payload, request["TransformInput"]["ContentType"],
                                         request["TransformOutput"]["Accept"])
        assert code == 200, answer[:500]
        answers.append(answer if isinstance(answer, str) else answer.decode())
    (tmp_path / "container.out").write_text("\n".join(answers) + "\n")
    container = read_probabilities(tmp_path / "container.out")

    assert transform_file(SentimentModel.load(bundled_model_dir()), source, tmp_path / "local.out") == 0
    local = read_probabilities(tmp_path / "local.out")
    assert len(container) == len(local) == len(texts) == 25_000
    np.testing.assert_allclose(container, local, atol=1e-4)
