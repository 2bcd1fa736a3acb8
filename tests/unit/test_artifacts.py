"""Safe artifacts: a model folder loads only when its manifest matches, nothing is unpickled, and a
crafted ``model.tar.gz`` cannot write outside the folder it is extracted into."""

from __future__ import annotations

import ast
import io
import os
import pickle
import shutil
import tarfile
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from sentiment_app.artifacts.archive import safe_extract
from sentiment_app.artifacts.model_dir import MANIFEST, WEIGHTS, load_model_dir, pack_model_archive
from sentiment_app.errors import ArtifactError
from sentiment_app.inference.handler import model_fn
from sentiment_app.cli import main
from sentiment_app.artifacts.locate import bundled_model_dir, resolve_model_dir
from sentiment_app.settings import load_settings
from sentiment_app.training import train
from tests.support import REPO, free_port

# Archives are packed from the small bundled LSTM (1 MB): the default model's 17 MB take seconds to gzip.
SMALL_MODEL = "lstm-seed"


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    """A private copy of the bundled model, free to damage."""
    return Path(shutil.copytree(bundled_model_dir(), tmp_path / "model"))


def test_intact_copy_loads(model_dir: Path) -> None:
    assert load_model_dir(model_dir).version == load_model_dir(bundled_model_dir()).version


@pytest.mark.parametrize("name", [WEIGHTS, "vocab.json", "config.json", "metrics.json"])
def test_tampered_file_is_refused_by_name(model_dir: Path, name: str) -> None:
    path = model_dir / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit, same size
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match=rf"{name} does not match its checksum in {MANIFEST}"):
        load_model_dir(model_dir)
    with pytest.raises(ArtifactError, match=name):
        model_fn(str(model_dir))  # the serving entry point refuses it too


def test_truncated_file_is_refused_by_name(model_dir: Path) -> None:
    path = model_dir / WEIGHTS
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ArtifactError, match=rf"{WEIGHTS} does not match its checksum"):
        load_model_dir(model_dir)


def test_missing_manifest_or_file_is_refused(model_dir: Path) -> None:
    (model_dir / "vocab.json").unlink()
    with pytest.raises(ArtifactError, match=r"vocab\.json is missing"):
        load_model_dir(model_dir)
    (model_dir / MANIFEST).unlink()
    with pytest.raises(ArtifactError, match=rf"not a complete model directory \(no valid {MANIFEST}\)"):
        load_model_dir(model_dir)


def test_manifest_without_a_checksum_is_refused(model_dir: Path) -> None:
    manifest = model_dir / MANIFEST
    manifest.write_text(manifest.read_text().replace(f'"{WEIGHTS}"', '"renamed.bin"'))
    with pytest.raises(ArtifactError, match=WEIGHTS):
        load_model_dir(model_dir)


# -- nothing is unpickled ------------------------------------------------------------------------

def _python_files() -> list[Path]:
    return [p for folder in ("src", "bench", "scripts") for p in sorted((REPO / folder).rglob("*.py"))]


def test_every_torch_load_is_weights_only() -> None:
    calls = []
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "load" \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "torch":
                weights_only = [k.value for k in node.keywords if k.arg == "weights_only"]
                calls.append((path.name, node.lineno))
                assert weights_only and isinstance(weights_only[0], ast.Constant) and weights_only[0].value is True, \
                    f"{path}:{node.lineno} calls torch.load without weights_only=True"
    assert calls  # the scan found the checkpoint loader, so it really looks


def test_no_module_imports_pickle() -> None:
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not {n.split(".")[0] for n in names} & {"pickle", "dill", "joblib", "cloudpickle"}, path


class _Payload:
    """Pickles to "run this code": what a poisoned checkpoint carries."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",)


def _channel(folder: Path) -> Path:
    """A tiny training channel: rows ``label, length, review[8]`` and a vocabulary."""
    folder.mkdir()
    rows = [[i % 2, 3, 2 + i, 3 + i, 4 + i, 0, 0, 0, 0, 0] for i in range(8)]
    (folder / "train.csv").write_text("".join(",".join(map(str, r)) + "\n" for r in rows))
    (folder / "word_dict.json").write_text('{"a": 2, "b": 3}')
    return folder


def test_poisoned_checkpoint_is_refused_not_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    poisoned = tmp_path / "checkpoints" / train.CHECKPOINT
    poisoned.parent.mkdir()
    torch.save({"model": _Payload(marker), "epoch": 1}, poisoned)
    torch.load(poisoned, weights_only=False)  # control: the payload is live when unpickled
    assert marker.read_text() == "pwned"
    marker.unlink()

    args = ["--epochs", "2", "--batch-size", "4", "--data-dir", str(_channel(tmp_path / "training")),
            "--model-dir", str(tmp_path / "model"), "--checkpoint-dir", str(poisoned.parent)]
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        train.main(args)
    assert not marker.exists() and not (tmp_path / "model" / MANIFEST).exists()


# -- safe extraction of model.tar.gz -------------------------------------------------------------

def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _archive(path: Path, *members: tuple[tarfile.TarInfo, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for info, data in members:
            info.size = len(data) if info.isfile() else 0
            archive.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return path


def _member(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, linkname, 0o644
    return info


def test_model_archive_round_trips(tmp_path: Path) -> None:
    packed = pack_model_archive(bundled_model_dir(SMALL_MODEL), tmp_path / "model.tar.gz")
    extracted = safe_extract(packed, tmp_path / "extracted")
    assert load_model_dir(extracted).version == load_model_dir(bundled_model_dir(SMALL_MODEL)).version
    assert (extracted / "code" / "inference.py").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # no staging folder left


CRAFTED = {
    "traversal": ([("ok.txt", tarfile.REGTYPE, ""), ("../escaped.txt", tarfile.REGTYPE, "")], "points outside"),
    "nested-traversal": ([("code/../../escaped.txt", tarfile.REGTYPE, "")], "points outside"),
    "absolute": ([("{outside}/escaped.txt", tarfile.REGTYPE, "")], "absolute path"),
    "symlink-escape": ([("link", tarfile.SYMTYPE, "../outside"), ("link/escaped.txt", tarfile.REGTYPE, "")],
                       "symbolic link"),
    "absolute-symlink": ([("link", tarfile.SYMTYPE, "{outside}")], "symbolic link"),
    "hardlink-escape": ([("hard", tarfile.LNKTYPE, "../../etc/passwd")], "hard link"),
    "device": ([("null", tarfile.CHRTYPE, "")], "device file"),
    "fifo": ([("pipe", tarfile.FIFOTYPE, "")], "device file or FIFO"),
}


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_crafted_archive_writes_nothing_outside(tmp_path: Path, case: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    members, reason = CRAFTED[case]
    archive = _archive(tmp_path / "evil.tar.gz", *(
        (_member(name.format(outside=outside), kind, link.format(outside=outside)), b"evil")
        for name, kind, link in members))
    before = _tree(tmp_path)
    with pytest.raises(ArtifactError, match=f"Refusing the archive: member .* {reason}"):
        safe_extract(archive, tmp_path / "dest")
    assert _tree(tmp_path) == before  # not the folder, not its staging copy, nothing outside
    assert not (tmp_path / "escaped.txt").exists() and not (outside / "escaped.txt").exists()


def test_oversize_archive_is_refused(tmp_path: Path) -> None:
    archive = _archive(tmp_path / "big.tar.gz", (_member("a.bin"), b"\0" * 4000), (_member("b.bin"), b"\0" * 4000))
    with pytest.raises(ArtifactError, match="exceed 6000 bytes"):
        safe_extract(archive, tmp_path / "dest", max_total_bytes=6000)
    assert not (tmp_path / "dest").exists()
    assert sorted(os.listdir(safe_extract(archive, tmp_path / "dest", max_total_bytes=8000))) == ["a.bin", "b.bin"]


def test_broken_archive_and_occupied_destination_are_refused(tmp_path: Path) -> None:
    good = pack_model_archive(bundled_model_dir(SMALL_MODEL), tmp_path / "model.tar.gz")
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ArtifactError, match="Cannot extract .*truncated.tar.gz"):
        safe_extract(truncated, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "keep.txt").write_text("mine")
    with pytest.raises(ArtifactError, match="already exists"):
        safe_extract(good, occupied)
    assert _tree(occupied) == {"keep.txt"}


def test_model_archive_is_accepted_wherever_a_model_folder_is(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path / "home")
    packed = pack_model_archive(bundled_model_dir(SMALL_MODEL), tmp_path / "model.tar.gz")
    unpacked = resolve_model_dir(settings, packed)
    assert unpacked.parent == tmp_path / "home" / "models" / ".archives"
    assert load_model_dir(unpacked).version == load_model_dir(bundled_model_dir(SMALL_MODEL)).version
    stamp = (unpacked / MANIFEST).stat().st_mtime_ns
    assert resolve_model_dir(settings, packed) == unpacked  # extracted once, by content
    assert (unpacked / MANIFEST).stat().st_mtime_ns == stamp
    assert resolve_model_dir(settings) == bundled_model_dir()  # an unpacked archive is no approved version


def test_serve_refuses_a_crafted_archive_before_starting(tmp_path: Path) -> None:
    evil = _archive(tmp_path / "evil.tar.gz", (_member("../escaped.txt"), b"evil"))
    done = CliRunner().invoke(main, ["serve", "--home", str(tmp_path / "home"), "--model", str(evil),
                                     "--port", str(free_port()), "--endpoint-port", str(free_port())])
    assert done.exit_code == 1
    assert "Refusing the archive: member '../escaped.txt' points outside the folder" in done.stderr
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "home" / "escaped.txt").exists()
