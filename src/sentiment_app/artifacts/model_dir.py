"""The self-describing model directory and its ``model.tar.gz``.

A model directory holds ``model.safetensors``, ``config.json`` (model name, hyperparameters,
feature settings), ``vocab.json``, ``metrics.json`` and ``manifest.json`` (sha256 of every other
file, the data fingerprint, the code version). It is loaded only when the manifest matches.
The archive adds ``code/`` (``inference.py`` plus this package's source) exactly as SageMaker's
PyTorch serving container expects, so one archive deploys locally and on AWS.
"""

from __future__ import annotations

import io
import json
import tarfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sentiment_app
from sentiment_app.errors import ArtifactError
from sentiment_app.fileio import atomic_open, atomic_write_bytes, sha256_file

if TYPE_CHECKING:  # torch is imported where weights are read or written, so finding a model needs none
    import torch

WEIGHTS, CONFIG, VOCAB, METRICS, MANIFEST = (
    "model.safetensors",
    "config.json",
    "vocab.json",
    "metrics.json",
    "manifest.json",
)
ARTIFACT_FILES = (WEIGHTS, CONFIG, VOCAB, METRICS)
INFERENCE_PY = (
    '"""SageMaker entry module: the handler functions of the bundled sentiment_app package."""\n'
    "from sentiment_app.inference.handler import input_fn, model_fn, output_fn, predict_fn  # noqa: F401\n"
)
CODE_REQUIREMENTS = "nltk==3.10.4\nsafetensors==0.8.0\nscikit-learn==1.9.1\nnumpy\ntransformers==5.17.0\ntokenizers==0.23.3\n"


@dataclass(frozen=True)
class ModelArtifacts:
    config: dict[str, Any]
    vocab: dict[str, Any]  # word → id; a text model may nest one per member
    state_dict: dict[str, torch.Tensor]
    metrics: dict[str, Any]
    manifest: dict[str, Any]

    @property
    def version(self) -> str:
        """Short id of the exact weights: the first 12 hex digits of their sha256."""
        return self.manifest["files"][WEIGHTS][:12]


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False).encode("utf-8")


def save_model_dir(
    model_dir: Path,
    state_dict: dict[str, torch.Tensor],
    config: dict[str, Any],
    vocab: dict[str, Any],
    metrics: dict[str, Any],
    data_fingerprint: str,
) -> None:
    """Write every artifact atomically, the manifest last (its presence marks a complete model)."""
    from safetensors.torch import save

    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / MANIFEST).unlink(missing_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in state_dict.items()}
    atomic_write_bytes(model_dir / WEIGHTS, save(tensors))
    for name, value in ((CONFIG, config), (VOCAB, vocab), (METRICS, metrics)):
        atomic_write_bytes(model_dir / name, _json_bytes(value))
    manifest = {
        "files": {name: sha256_file(model_dir / name) for name in ARTIFACT_FILES},
        "data_fingerprint": data_fingerprint,
        "code_version": sentiment_app.__version__,
    }
    atomic_write_bytes(model_dir / MANIFEST, _json_bytes(manifest))


def load_model_dir(model_dir: Path) -> ModelArtifacts:
    """Read a model directory, refusing it unless every file matches the manifest."""
    from safetensors.torch import load_file

    try:
        manifest = json.loads((model_dir / MANIFEST).read_text("utf-8"))
        expected = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ArtifactError(f"{model_dir} is not a complete model directory (no valid {MANIFEST}): {exc}") from exc
    for name in ARTIFACT_FILES:
        path = model_dir / name
        if not path.is_file():
            raise ArtifactError(f"{path} is missing")
        if sha256_file(path) != expected.get(name):
            raise ArtifactError(f"{path} does not match its checksum in {MANIFEST}: refusing a changed model")
    read = lambda name: json.loads((model_dir / name).read_text("utf-8"))  # noqa: E731
    return ModelArtifacts(read(CONFIG), read(VOCAB), load_file(str(model_dir / WEIGHTS)), read(METRICS), manifest)


def add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    archive.addfile(info, io.BytesIO(data))


def add_package_source(archive: tarfile.TarFile, folder: str) -> None:
    """This package's source as ``<folder>sentiment_app/...`` (no caches, bundled models or web files),
    shared by ``model.tar.gz`` and the training job's ``sourcedir.tar.gz``."""
    package = Path(str(resources.files("sentiment_app")))
    skip = {"__pycache__", "bundled", "static"}
    for path in sorted(package.rglob("*")):
        rel = path.relative_to(package)
        if path.is_file() and not skip & set(rel.parts):
            archive.add(path, arcname=f"{folder}sentiment_app/{rel}")


def pack_model_archive(model_dir: Path, target: Path) -> Path:
    """``model.tar.gz`` with the artifacts at the root and ``code/`` for the serving container."""
    with atomic_open(target) as f, tarfile.open(fileobj=f, mode="w:gz") as archive:
        for name in (*ARTIFACT_FILES, MANIFEST):
            archive.add(model_dir / name, arcname=name)
        add_bytes(archive, "code/inference.py", INFERENCE_PY.encode())
        add_bytes(archive, "code/requirements.txt", CODE_REQUIREMENTS.encode())
        add_package_source(archive, "code/")
    return target

