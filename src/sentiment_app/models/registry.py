"""Model names → families and their default hyperparameters; the one place new families register.

Two kinds of family: ``lstm-seed`` reads the original encoded channel (``label, length,
review[500]`` + ``word_dict.json``) and is an ``nn.Module``; the others read the text channel
(``label,text``) and are :class:`~sentiment_app.models.text_model.TextModel` classes.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field, replace
from typing import Any

from torch import nn

from sentiment_app.errors import SentimentAppError
from sentiment_app.features.prepare import ROWS, TEXT
from sentiment_app.features.soft_labels import TEACHER_CHANNEL
from sentiment_app.features.vocab import VOCAB_SIZE
from sentiment_app.models import bilstm, encoder, encoder_stack, ensemble, nbsvm, nbsvm_stack, region_cnn
from sentiment_app.models.lstm import LSTMClassifier
from sentiment_app.models.names import DEFAULT_MODEL, SEED_MODEL  # noqa: F401 (the registry's defaults, named apart)
from sentiment_app.models.metric_log import TRAIN_LOSS, VALIDATION_ACCURACY

ENCODER_CHANNEL = "encoder"  # a fine-tuned encoder's model folder, reused instead of fine-tuning again


class ModelChoiceError(SentimentAppError, ValueError):
    """An unknown model name, or a hyperparameter the model does not take or cannot parse."""


@dataclass(frozen=True)
class ModelSpec:
    name: str
    factory: Any  # an nn.Module class (channel "rows") or a TextModel class (channel "text")
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    channel: str = TEXT
    inputs: tuple[str, ...] = ()  # optional input channels, read by the entry point and passed to ``fit`` by name
    metrics: tuple[str, ...] = (VALIDATION_ACCURACY,)  # what its training log reports (metric_log)


ENCODER_STACK = ModelSpec(
    name="encoder-stack",
    factory=encoder_stack.EncoderStack,
    hyperparameters=encoder_stack.HYPERPARAMETERS,
    description="The fine-tuned encoder and the n-gram stack combined by input length on movie-grouped validation.",
    inputs=(ENCODER_CHANNEL, TEACHER_CHANNEL),
)
MODELS: dict[str, ModelSpec] = {
    "lstm-seed": ModelSpec(
        name="lstm-seed",
        factory=LSTMClassifier,
        # the original notebook's recipe: its training loop's settings, then the network's
        hyperparameters={"epochs": 10, "batch_size": 512, "lr": 1e-3,
                         "embedding_dim": 32, "hidden_dim": 100, "vocab_size": VOCAB_SIZE},
        description="The original project's LSTMClassifier (embedding 32, LSTM 100, sigmoid at length-1), Adam, BCE.",
        channel=ROWS,
        metrics=(TRAIN_LOSS, VALIDATION_ACCURACY),
    ),
    "nbsvm": ModelSpec(
        name="nbsvm",
        factory=nbsvm.NBSVM,
        hyperparameters=nbsvm.HYPERPARAMETERS,
        description="NBSVM: naive-Bayes log-count ratios over hashed binary 1-3-grams, logistic regression.",
    ),
    "nbsvm-stack": ModelSpec(
        name="nbsvm-stack",
        factory=nbsvm_stack.NBSVMStack,
        hyperparameters=nbsvm_stack.HYPERPARAMETERS,
        description="Two negation-aware NBSVMs (reviews; reviews + their sentences) stacked by input length, "
                    "calibrated on movie-grouped validation; learns from a teacher's soft labels when given.",
        inputs=(TEACHER_CHANNEL,),
    ),
    "bilstm": ModelSpec(
        name="bilstm",
        factory=bilstm.BiLSTM,
        hyperparameters=bilstm.HYPERPARAMETERS,
        description="Bidirectional LSTM over the real tokens, mean+max pooling, early stopping on validation.",
        metrics=(TRAIN_LOSS, VALIDATION_ACCURACY),
    ),
    "region-cnn": ModelSpec(
        name="region-cnn",
        factory=region_cnn.RegionCNN,
        hyperparameters=region_cnn.HYPERPARAMETERS,
        description="Region CNN: one-hot 3-word regions (a table per position), max+mean pooling, early stopping.",
        metrics=(TRAIN_LOSS, VALIDATION_ACCURACY),
    ),
    "encoder": ModelSpec(
        name="encoder",
        factory=encoder.Encoder,
        hyperparameters=encoder.HYPERPARAMETERS,
        description="Pretrained MiniLM (all-MiniLM-L6-v2) fine-tuned on the reviews' head and tail, early stopping.",
    ),
    "encoder-stack": ENCODER_STACK,
    "fast-encoder-stack": replace(
        ENCODER_STACK, name="fast-encoder-stack",
        hyperparameters={**encoder_stack.HYPERPARAMETERS, "max_encoder_words": encoder_stack.SHORT_INPUT},
        description=f"encoder-stack with the encoder reading only inputs of at most {encoder_stack.SHORT_INPUT} tokens "
                    "(what people type); longer reviews get the n-gram stack alone, at its speed."),
    "ensemble": ModelSpec(
        name="ensemble",
        factory=ensemble.Ensemble,
        hyperparameters=ensemble.HYPERPARAMETERS,
        description="Weighted average of NBSVM and region-CNN logits, the weight chosen on the validation split.",
    ),
}


def get_spec(name: str) -> ModelSpec:
    if name not in MODELS:
        raise ModelChoiceError(f"Unknown model family {name!r}; known: {', '.join(MODELS)}")
    return MODELS[name]


def _parse(name: str, key: str, value: Any, default: Any) -> Any:
    """``value`` as the type of the default (command-line values arrive as strings)."""
    if not isinstance(value, str) or isinstance(default, str):
        return value
    try:
        return type(default)(value)
    except ValueError:
        raise ModelChoiceError(f"Model {name}: {key}={value!r} is not a {type(default).__name__}") from None


def resolve_hyperparameters(name: str, given: dict[str, Any]) -> dict[str, Any]:
    """The defaults of model ``name`` updated with ``given``; unknown keys fail with a clear message."""
    spec = get_spec(name)
    unknown = set(given) - set(spec.hyperparameters)
    if unknown:
        raise ModelChoiceError(f"Model {name} does not take {sorted(unknown)}; it takes {sorted(spec.hyperparameters)}")
    return {key: _parse(name, key, given.get(key, default), default) for key, default in spec.hyperparameters.items()}


def build_model(name: str, hyperparameters: dict[str, Any]) -> nn.Module:
    """Instantiate the encoded-rows network ``name`` (``lstm-seed``) from the hyperparameters its
    constructor takes (the others are the training loop's)."""
    spec = get_spec(name)
    if spec.channel != ROWS:
        raise ModelChoiceError(f"Model {name} reads review text, not encoded rows")
    return spec.factory(**network_hyperparameters(name, resolve_hyperparameters(name, hyperparameters)))


def network_hyperparameters(name: str, hyperparameters: dict[str, Any]) -> dict[str, Any]:
    """The part of a rows family's hyperparameters that shapes its network (saved with the weights)."""
    shape = inspect.signature(get_spec(name).factory).parameters
    return {k: v for k, v in hyperparameters.items() if k in shape}


def argument_names(key: str) -> list[str]:
    """``embedding_dim`` → ``--embedding-dim`` and ``--embedding_dim`` (the original's spelling);
    ``C`` → ``--C`` and ``-C`` (how the training toolkit passes a one-letter key)."""
    dashed = f"--{key.replace('_', '-')}"
    if len(key) == 1:
        return [dashed, f"-{key}"]
    return [dashed, f"--{key}"] if "_" in key else [dashed]
