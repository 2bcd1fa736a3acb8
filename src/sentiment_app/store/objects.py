"""Objects named by URI, for commands that read files and write others.

A name is an ``s3://bucket/key`` URI, a local path (or ``file://`` URI), or else a key in the
artifact store; a prefix (``s3://bucket/dir/``), a local folder or a folder of the store names
every object under it, as a transform job's ``S3Prefix`` does. Work always happens on a local
file: S3 inputs are downloaded (checksum-verified) into a temporary folder first, and S3 outputs
are uploaded only after the block succeeds, so a failed run leaves no partial object behind, as a
SageMaker job uploads only finished outputs.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlparse

from sentiment_app.errors import ArtifactError
from sentiment_app.store.base import ArtifactStore, open_store


def is_s3(uri: str) -> bool:
    return uri.startswith("s3://")


def _local_path(uri: str) -> Path:
    return Path(unquote(urlparse(uri).path)) if uri.startswith("file://") else Path(uri).expanduser()


def _spelled_local(name: str) -> bool:
    """A name written as a path or ``file://`` URI: never a key of the store, even when no such file exists."""
    return name.startswith(("/", "./", "../", "file://"))


def _split(uri: str) -> tuple[ArtifactStore, str]:
    """``s3://bucket/dir/name`` → (the store ``s3://bucket/dir``, ``"name"``)."""
    parent, _, name = uri.rpartition("/")
    if parent in ("s3:/", "s3:") or not name:
        raise ArtifactError(f"{uri} names a bucket or prefix, not an object")
    return open_store(parent), name


def resolve_input(name: str, store_uri: str) -> str:
    """``name`` as given when it is an S3 URI or an existing local file, else its URI as a key of the store."""
    if is_s3(name) or _local_path(name).is_file():
        return name
    store = open_store(store_uri)
    if _spelled_local(name) or not store.exists(name):
        raise ArtifactError(f"{name} is neither a local file nor a key in the store {store.uri}")
    return store.url(name)


def input_prefix(name: str, store_uri: str) -> tuple[ArtifactStore, list[str]] | None:
    """The store rooted at the prefix or folder ``name`` and the keys under it (sorted, possibly
    none); ``None`` when ``name`` is a single object or file."""
    if is_s3(name):
        if not name.endswith("/"):
            return None
        folder = open_store(name.rstrip("/"))
    elif _local_path(name).is_dir():
        folder = open_store(str(_local_path(name)))
    elif _local_path(name).is_file() or _spelled_local(name):
        return None  # a local name: never looked up in the store
    else:
        store, key = open_store(store_uri), name.strip("/")
        if not key or store.exists(key):
            return None
        keys = store.list(key)
        return (open_store(store.url(key)), [k.removeprefix(f"{key}/") for k in keys]) if keys else None
    return folder, folder.list()


def is_folder(output: str) -> bool:
    """Whether ``output`` names a folder or prefix (ends with ``/``, or is a local folder)."""
    return output.endswith("/") or (not is_s3(output) and _local_path(output).is_dir())


def _canonical(name: str) -> str:
    """One spelling per object: S3 URIs as they are, local names as resolved ``file://`` URIs."""
    return name if is_s3(name) else _local_path(name).resolve().as_uri()


def within(uri: str, folder: str) -> bool:
    """Whether the object ``uri`` lies under the folder or prefix ``folder``."""
    return _canonical(uri).startswith(_canonical(folder).rstrip("/") + "/")


def output_uri(input_uri: str, output: str | None) -> str:
    """SageMaker's naming, ``<input name>.out``: next to the input by default, inside ``output`` when
    that ends with ``/`` or is a local folder; any other ``output`` is the exact target."""
    if output is None:
        return f"{input_uri}.out"
    name = input_uri.rstrip("/").rpartition("/")[2] + ".out"
    if output.endswith("/"):
        return output + name
    if is_folder(output):
        return str(_local_path(output) / name)
    return output


@contextmanager
def local_input(uri: str) -> Iterator[Path]:
    """A local file with the object's bytes: the file itself, or a verified download."""
    if not is_s3(uri):
        path = _local_path(uri)
        if not path.is_file():
            raise ArtifactError(f"{uri} is not a file")
        yield path
        return
    store, key = _split(uri)
    with tempfile.TemporaryDirectory(prefix="sentiment-app-in-") as tmp:
        yield store.get_file(key, Path(tmp) / key)


@contextmanager
def local_output(uri: str) -> Iterator[Path]:
    """A local path to write; an S3 target is uploaded from it once the block succeeds."""
    if not is_s3(uri):
        yield _local_path(uri)
        return
    store, key = _split(uri)
    store.exists(key)  # fail now, not after the work, on a missing bucket or missing credentials
    with tempfile.TemporaryDirectory(prefix="sentiment-app-out-") as tmp:
        path = Path(tmp) / key
        yield path
        store.put_file(key, path)
