"""The pretrained MiniLM encoder fine-tuned on IMDB: the family that reads what IMDB cannot teach.

The n-gram models learn English from 25,000 reviews only, so "not bad at all" stays a negative
phrase to them; all-MiniLM-L6-v2 (:mod:`.pretrained`) brings what it read in pretraining. A
mean-pooled head on its token states gives one logit, and the whole network is fine-tuned
(AdamW, linear warmup and decay) on the training reviews, each cut to ``max_tokens`` word pieces
as head + tail (its first ``head_tokens`` and its last ones: a review's verdict is most often at
its end; Sun et al. 2019, "How to fine-tune BERT for text classification"). Every ``eval_every``
steps the movie-grouped validation part is scored and the best weights are kept; training stops
after ``patience`` evaluations without a gain, or at ``max_minutes``. It runs on the GPU when
torch sees one.

The artifact holds the fine-tuned weights in float16, the head, and the tokenizer (its JSON as the
model's vocabulary), so serving needs no package but ``transformers`` and ``tokenizers``. It
answers in float32, inputs batched by length so a batch pads little. Not int8: dynamic
quantization scales each batch's activations together, so a text's answer would depend on what
the endpoint batched it with, and it costs a point of accuracy (docs/experiments.md). The metrics record the validation part's
fingerprint, so a stack that reuses this encoder can check that its own validation part is unseen.
"""

from __future__ import annotations

import copy
import json
import math
import sys
import time
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file
from tokenizers import Tokenizer
from torch import nn
from tqdm import tqdm
from transformers import BertConfig, BertModel

from sentiment_app.data.dataset import Reviews
from sentiment_app.features.tokens import clean_text
from sentiment_app.models.pretrained import minilm_files
from sentiment_app.models.text_model import Saved, accuracy

HYPERPARAMETERS = {"max_tokens": 128, "head_tokens": 32, "epochs": 1, "batch_size": 16, "lr": 5e-5,
                   "weight_decay": 0.01, "warmup": 0.06, "eval_every": 250, "eval_reviews": 1000, "patience": 3,
                   "max_minutes": 50.0}
BATCH_TOKENS = 8192  # word pieces per inference batch: bounds memory whatever the inputs' lengths
ENCODER = "encoder."  # tensor name prefix of the BERT weights; the head's are "head.*"


class EncoderNet(nn.Module):
    """BERT, mean pooling over the real tokens, one linear logit."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self.encoder = BertModel(BertConfig(**config), add_pooling_layer=False)
        self.head = nn.Linear(self.encoder.config.hidden_size, 1)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        states = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        weights = mask.unsqueeze(-1).to(states.dtype)
        pooled = (states * weights).sum(1) / weights.sum(1).clamp(min=1)
        return self.head(pooled).squeeze(-1)


class Windows:
    """Texts → word-piece ids with ``[CLS]``/``[SEP]``, at most ``max_tokens``: head + tail."""

    def __init__(self, tokenizer_json: dict[str, Any], max_tokens: int, head_tokens: int) -> None:
        self.tokenizer = Tokenizer.from_str(json.dumps(tokenizer_json))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.cls, self.sep = self.tokenizer.token_to_id("[CLS]"), self.tokenizer.token_to_id("[SEP]")
        self.body, self.head = max_tokens - 2, min(head_tokens, max_tokens - 2)

    def encode(self, texts: list[str]) -> list[list[int]]:
        pieces = self.tokenizer.encode_batch([clean_text(text) for text in texts], add_special_tokens=False)
        cut = lambda ids: ids if len(ids) <= self.body else ids[: self.head] + ids[len(ids) - self.body + self.head:]  # noqa: E731
        return [[self.cls, *cut(p.ids), self.sep] for p in pieces]


def padded(rows: list[list[int]], device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(row) for row in rows)
    ids = torch.zeros(len(rows), width, dtype=torch.int64)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.as_tensor(row)
    return ids.to(device), (ids != 0).to(device=device, dtype=torch.int64)


def by_length(rows: list[list[int]], batch_tokens: int = BATCH_TOKENS) -> list[np.ndarray]:
    """Indices of ``rows`` in batches of similar length, each within ``batch_tokens`` (padded)."""
    order = np.argsort([len(row) for row in rows], kind="stable")
    batches, start = [], 0
    while start < len(order):
        end = start + 1
        while end < len(order) and (end - start + 1) * len(rows[order[end]]) <= batch_tokens:
            end += 1
        batches.append(order[start:end])
        start = end
    return batches


@torch.inference_mode()
def score(net: nn.Module, rows: list[list[int]], device: torch.device | str = "cpu") -> np.ndarray:
    """Logits for encoded rows, batched by length."""
    out = np.empty(len(rows), dtype=np.float32)
    for index in by_length(rows):
        out[index] = net(*padded([rows[i] for i in index], device)).float().cpu().numpy()
    return out


def _schedule(step: int, total: int, warmup: int) -> float:
    """Linear warmup to the full rate, then linear decay to zero."""
    return (step + 1) / warmup if step < warmup else max(0.0, (total - step) / max(1, total - warmup))


class Encoder:
    name = "encoder"

    def __init__(self, hyper: dict[str, Any], net: nn.Module, tokenizer_json: dict[str, Any],
                 bert_config: dict[str, Any], metrics: dict | None = None) -> None:
        self.hyper = hyper
        self.net = net.eval()
        self.tokenizer_json = tokenizer_json
        self.bert_config = bert_config
        self.windows = Windows(tokenizer_json, hyper["max_tokens"], hyper["head_tokens"])
        self.metrics = metrics or {}

    @classmethod
    def fit(cls, train: Reviews, val: Reviews, hyper: dict[str, Any], seed: int) -> "Encoder":
        torch.manual_seed(seed)
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        weights, bert_config, tokenizer_json = minilm_files()
        net = EncoderNet(bert_config)
        expected = net.encoder.state_dict()  # the checkpoint also holds BERT's unused pooler
        net.encoder.load_state_dict({k: v for k, v in load_file(str(weights)).items() if k in expected})
        net.to(device)
        windows = Windows(tokenizer_json, hyper["max_tokens"], hyper["head_tokens"])
        rows, val_rows = windows.encode(train.texts), windows.encode(val.texts)
        probe = np.random.default_rng(seed).permutation(len(val))[: hyper["eval_reviews"]]
        labels = torch.as_tensor(train.labels, dtype=torch.float32)

        steps_per_epoch = math.ceil(len(rows) / hyper["batch_size"])
        total = steps_per_epoch * hyper["epochs"]
        decay = [p for p in net.parameters() if p.ndim > 1]  # matrices decay; biases and norms do not
        rest = [p for p in net.parameters() if p.ndim <= 1]
        optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": hyper["weight_decay"]},
                                       {"params": rest, "weight_decay": 0.0}], lr=hyper["lr"])
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: _schedule(step, total, max(1, int(total * hyper["warmup"]))))
        loss_fn = nn.BCEWithLogitsLoss()
        started, deadline = time.perf_counter(), time.perf_counter() + hyper["max_minutes"] * 60
        best, best_state, history, waited, step, stopped = -1.0, None, [], 0, 0, ""
        generator = torch.Generator().manual_seed(seed)

        def evaluate() -> None:
            nonlocal best, best_state, waited
            net.eval()
            acc = accuracy(val.labels[probe], score(net, [val_rows[i] for i in probe], device))
            net.train()
            history.append({"step": step, "val_accuracy": acc, "seconds": time.perf_counter() - started})
            print(f"step: {step}, val_accuracy: {acc:.4f}", file=sys.stderr, flush=True)
            if acc > best:
                best, best_state, waited = acc, copy.deepcopy(net.state_dict()), 0
            else:
                waited += 1

        net.train()
        bar = tqdm(total=total, desc="fine-tuning", unit="step", file=sys.stderr)
        for _ in range(hyper["epochs"]):
            for index in torch.randperm(len(rows), generator=generator).split(hyper["batch_size"]):
                ids, mask = padded([rows[i] for i in index.tolist()], device)
                loss = loss_fn(net(ids, mask), labels[index].to(device))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                step += 1
                bar.update()
                bar.set_postfix(loss=f"{loss.item():.4f}")
                if step % hyper["eval_every"] == 0:
                    evaluate()
                    if waited >= hyper["patience"]:
                        stopped = "patience"
                if time.perf_counter() > deadline:
                    stopped = stopped or "max_minutes"
                if stopped:
                    break
            if stopped:
                break
        bar.close()
        if not history or history[-1]["step"] != step:
            evaluate()
        net.load_state_dict(best_state)
        with torch.no_grad():  # the weights measured are the float16 weights saved and served
            for tensor in net.encoder.state_dict().values():
                if tensor.is_floating_point():
                    tensor.copy_(tensor.half().float())
        net.eval()
        model = cls(hyper, net.to("cpu"), tokenizer_json, bert_config)
        model.metrics = {"val_accuracy": accuracy(val.labels, model.logits(val.texts)), "steps": step,
                         "stopped": stopped or "epochs", "history": history, "device": device.type,
                         "validation_fingerprint": val.fingerprint()}
        return model

    @classmethod
    def restore(cls, hyper: dict[str, Any], saved: Saved) -> "Encoder":
        net = EncoderNet(saved.state["bert"])
        net.load_state_dict({k: v.float() for k, v in saved.tensors.items()})
        return cls(hyper, net, saved.vocab, saved.state["bert"], saved.metrics)

    def save(self) -> Saved:
        tensors = {k: v.detach().cpu().to(torch.float16 if k.startswith(ENCODER) else torch.float32)
                   for k, v in self.net.state_dict().items()}
        return Saved(tensors, vocab=self.tokenizer_json, state={"bert": self.bert_config}, metrics=self.metrics)

    def logits(self, texts: list[str]) -> np.ndarray:
        return score(self.net, self.windows.encode(texts))
