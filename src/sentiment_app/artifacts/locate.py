"""Which model to load: one named (a folder, an archive, a registry version, a bundled model), else the
newest approved version, else the bundled one: a model nobody approved is never served by default."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from sentiment_app.artifacts.archive import unpacked_model
from sentiment_app.artifacts.model_dir import MANIFEST
from sentiment_app.artifacts.versions import get_version, newest_approved, version_number
from sentiment_app.errors import ArtifactError
from sentiment_app.models.names import DEFAULT_MODEL
from sentiment_app.settings import Settings
from sentiment_app.store.objects import local_input


BUNDLED = "bundled"
BUNDLED_FOLDER = "resources/bundled"


def models_root(settings: Settings) -> Path:
    """Trained model directories live at ``<home>/models/<job-name>/``."""
    return settings.home / "models"


def bundled_model_dir(name: str = DEFAULT_MODEL) -> Path:
    """A trained model shipped inside the package (see its MODEL_CARD.md): the default model, which
    serves when nothing was trained, and ``lstm-seed``, the original recipe, for comparisons."""
    return Path(str(resources.files("sentiment_app").joinpath(f"{BUNDLED_FOLDER}/{name}")))


def bundled_name(source: str | Path) -> str | None:
    """The bundled model ``source`` names: ``bundled`` is the default one, and each is also named by
    its folder (``lstm-seed``); ``./lstm-seed`` is a folder of that name."""
    name = str(source)
    if name == BUNDLED:
        return DEFAULT_MODEL
    return name if name in bundled_names() else None


def bundled_names() -> list[str]:
    folder = resources.files("sentiment_app").joinpath(BUNDLED_FOLDER)
    return sorted(entry.name for entry in folder.iterdir() if entry.is_dir() and entry.name[0].isalnum())


def resolve_model_dir(settings: Settings, explicit: str | Path | None = None) -> Path:
    """``explicit`` is a model folder, a registry version (``3`` or ``v3``; ``./3`` is a folder), a
    bundled model (:func:`bundled_name`), or a ``model.tar.gz``, local or ``s3://`` (downloaded,
    checksum-verified): extracted safely under the home, once per content."""
    archives = models_root(settings) / ".archives"
    if explicit and str(explicit).startswith("s3://"):
        with local_input(str(explicit)) as downloaded:
            return unpacked_model(downloaded, archives)
    if explicit and version_number(explicit) is not None:
        return version_dir(get_version(settings, explicit))
    if explicit and (bundled := bundled_name(explicit)) is not None:
        return bundled_model_dir(bundled)
    if explicit:
        path = Path(explicit).expanduser().resolve()
        return unpacked_model(path, archives) if path.is_file() else path
    approved = newest_approved(settings)
    return version_dir(approved) if approved else bundled_model_dir()


def version_dir(version: dict) -> Path:
    path = Path(version["model_dir"])
    if not (path / MANIFEST).is_file():
        raise ArtifactError(f"Model version {version['version']}'s folder {path} is gone; "
                            "reject it with `sentiment-app models reject`.")
    return path
