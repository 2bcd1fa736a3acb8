"""Safe extraction of a ``model.tar.gz``: nothing in a crafted archive can land outside its folder.

Every member is checked before anything is written (absolute paths, ``..`` components, links that
resolve outside, device files and FIFOs, too many members or bytes), then extraction runs with
tarfile's ``data`` filter as a second line of defence, into a temporary sibling folder that is
renamed into place only when all of it succeeded: the destination is complete or absent.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

from sentiment_app.errors import ArtifactError
from sentiment_app.fileio import sha256_file

MAX_TOTAL_BYTES = 2 * 1024**3  # far above any model here; stops a decompression bomb
MAX_MEMBERS = 10_000


def _inside(path: PurePosixPath) -> bool:
    """Whether a relative path stays inside the folder it is relative to, ``..`` resolved lexically."""
    depth = 0
    for part in path.parts:
        depth += -1 if part == ".." else 0 if part == "." else 1
        if depth < 0:
            return False
    return True


def _problem(member: tarfile.TarInfo) -> str | None:
    """Why ``member`` may not be extracted, or None if it is a plain file or folder inside the root."""
    name = PurePosixPath(member.name)
    if name.is_absolute() or member.name.startswith("\\"):
        return "has an absolute path"
    if not _inside(name):
        return "points outside the folder (..)"
    if member.isdev() or member.isfifo():
        return "is a device file or FIFO"
    if member.issym():
        target = PurePosixPath(member.linkname)
        if target.is_absolute() or not _inside(name.parent / target):
            return f"is a symbolic link to {member.linkname!r}, outside the folder"
    elif member.islnk():
        target = PurePosixPath(member.linkname)
        if target.is_absolute() or not _inside(target):
            return f"is a hard link to {member.linkname!r}, outside the folder"
    elif not (member.isfile() or member.isdir()):
        return "is not a regular file, folder or link"
    return None


def check_members(members: list[tarfile.TarInfo], max_total_bytes: int = MAX_TOTAL_BYTES) -> None:
    """Raise :class:`ArtifactError` naming the first member that may not be extracted."""
    if len(members) > MAX_MEMBERS:
        raise ArtifactError(f"The archive has {len(members)} members, more than the {MAX_MEMBERS} allowed.")
    total = 0
    for member in members:
        problem = _problem(member)
        if problem:
            raise ArtifactError(f"Refusing the archive: member {member.name!r} {problem}.")
        total += member.size if member.isfile() else 0
        if total > max_total_bytes:
            raise ArtifactError(f"Refusing the archive: its files exceed {max_total_bytes} bytes when extracted.")


def safe_extract(tar_path: Path, dest: Path, max_total_bytes: int = MAX_TOTAL_BYTES) -> Path:
    """Extract ``tar_path`` (any compression tarfile reads) into ``dest``, which must not exist yet
    (an empty folder is replaced). Returns ``dest``; on any error nothing is left at ``dest``."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ArtifactError(f"Cannot extract into {dest}: it already exists and is not an empty folder.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp"))
    try:
        with tarfile.open(tar_path, "r:*") as archive:
            members = archive.getmembers()
            check_members(members, max_total_bytes)
            # tarfile's own "data" filter (Python 3.10.12+/3.11.4+) checks every member again
            safety = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            archive.extractall(staging, members=members, **safety)
        if dest.exists():
            dest.rmdir()
        os.replace(staging, dest)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ArtifactError(f"Cannot extract {tar_path}: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest


def unpacked_model(tar_path: Path, cache: Path) -> Path:
    """The folder of a ``model.tar.gz``, extracted safely once into ``cache/<sha256 prefix>``: named
    by content and renamed into place whole, so a folder that exists is complete and current."""
    dest = cache / sha256_file(tar_path)[:16]
    if not dest.is_dir():
        try:
            safe_extract(tar_path, dest)
        except ArtifactError:
            if not dest.is_dir():  # else another process extracted the same archive first
                raise
    return dest
