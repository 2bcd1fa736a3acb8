"""Which model to use when none is named: the newest trained in the home, else the bundled one."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from sentiment_app.artifacts.archive import unpacked_model
from sentiment_app.artifacts.model_dir import MANIFEST
from sentiment_app.models.registry import DEFAULT_MODEL
from sentiment_app.settings import Settings
from sentiment_app.store.objects import local_input


def models_root(settings: Settings) -> Path:
    """Trained model directories live at ``<home>/models/<job-name>/``."""
    return settings.home / "models"


def bundled_model_dir(name: str = DEFAULT_MODEL) -> Path:
    """A trained model shipped inside the package (see its MODEL_CARD.md): the default model, which
    serves when nothing was trained, and ``lstm-seed``, the original recipe, for comparisons."""
    return Path(str(resources.files("sentiment_app").joinpath(f"resources/bundled/{name}")))


def newest_model_dir(settings: Settings) -> Path | None:
    complete = [p.parent for p in models_root(settings).glob(f"*/{MANIFEST}")]
    return max(complete, key=lambda p: (p / MANIFEST).stat().st_mtime, default=None)


def resolve_model_dir(settings: Settings, explicit: str | Path | None = None) -> Path:
    """``explicit`` may also be a ``model.tar.gz``, local or ``s3://`` (downloaded, checksum-verified):
    it is extracted safely under the home, once per content."""
    archives = models_root(settings) / ".archives"
    if explicit and str(explicit).startswith("s3://"):
        with local_input(str(explicit)) as downloaded:
            return unpacked_model(downloaded, archives)
    if explicit:
        path = Path(explicit).expanduser().resolve()
        return unpacked_model(path, archives) if path.is_file() else path
    return newest_model_dir(settings) or bundled_model_dir()
