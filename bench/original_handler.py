"""The original project's ``serve/predict.py`` handler, kept only for bench/serving.py to compare with.

Written as the original does it: ``model_fn`` loads once, but
``predict_fn`` redoes its preprocessing setup on every request (BeautifulSoup, a new
``PorterStemmer`` for every word, no cache, via bench/original.py's ``review_to_words``), pads to
500 and runs the original LSTM over all 500 steps for a single review. Forced changes: the
per-request ``nltk.download("stopwords")`` cannot run offline and is skipped, and the stopword list
is the shipped one that bench/original.py reads once (the notebook re-reads NLTK's corpus, which
is slower still), so the original is timed, if anything, too favourably. The weights, dictionary and
hyperparameters come from our model directory instead of ``model.pth``, ``word_dict.pkl`` and
``model_info.pth``, so both handlers answer with the same trained model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from original import OriginalLSTMClassifier, convert_and_pad, review_to_words
from sentiment_app.artifacts.model_dir import load_model_dir


def model_fn(model_dir: str) -> OriginalLSTMClassifier:
    """The network with the dictionary attached as a plain attribute, as the original keeps it."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    artifacts = load_model_dir(Path(model_dir))
    model = OriginalLSTMClassifier(**artifacts.config["hyperparameters"])
    model.load_state_dict(artifacts.state_dict)
    model.word_dict = artifacts.vocab
    return model.to(device).eval()


def input_fn(serialized_input_data: bytes, content_type: str) -> str:
    """Only an exact ``text/plain`` is accepted; anything else is an exception (a 500), as in the original."""
    if content_type == "text/plain":
        return serialized_input_data.decode("utf-8")
    raise Exception("Requested unsupported ContentType in content_type: " + content_type)


def predict_fn(input_data: str, model: OriginalLSTMClassifier) -> np.ndarray:
    """The course's usual solution: features built from scratch, a (1, 501) tensor, rounded output."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    data_X, data_len = convert_and_pad(model.word_dict, review_to_words(input_data))
    data_pack = np.hstack((data_len, data_X)).reshape(1, -1)
    data = torch.from_numpy(data_pack).to(device)
    model.eval()
    with torch.no_grad():
        output = model.forward(data)
    return np.round(output.cpu().numpy())


def output_fn(prediction_output: np.ndarray, accept: str) -> str:
    """``"1.0"`` or ``"0.0"``: ``str`` of the rounded probability, whatever ``accept`` asks."""
    return str(prediction_output)
