"""The package's layering, read from the source with ``ast`` (nothing is imported): ``click`` only in
the command layer, and no module importing from a package above its own. (That ``sentiment-app --help``
imports neither torch, scikit-learn nor boto3 needs a fresh interpreter: ``tests/system/test_layout.py``.)"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import sentiment_app

PACKAGE = Path(sentiment_app.__file__).parent
# Lowest first; a module may import from its own level or below. One row is one level.
LAYERS = [
    ("errors", "settings", "fileio", "wire"),
    ("data",),
    ("store",),
    ("features",),
    ("models",),
    ("artifacts",),
    ("training", "inference", "evaluation"),
    ("http_common",),
    ("serving",),
    ("web",),
    ("gateway",),
    ("monitoring",),
    ("aws",),
    ("pipeline",),
    ("cli", "__main__"),  # ``python -m sentiment_app`` is the command line
]
ROOT = "__init__"  # sentiment_app/__init__.py runs before any module: it may import only the lowest layer
LEVEL = {ROOT: 0} | {name: level for level, names in enumerate(LAYERS) for name in names}


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def top_level(path: Path) -> str:
    """``data`` for ``sentiment_app/data/dataset.py``, ``fileio`` for ``sentiment_app/fileio.py``."""
    return path.relative_to(PACKAGE).with_suffix("").parts[0]


def imports_in(source: str, package: list[str]) -> list[tuple[int, str]]:
    """(line, dotted name) of every module ``source`` (a module of ``package``) imports, at any depth
    (in functions, under TYPE_CHECKING), relative imports resolved; ``from a import b`` counts as
    ``a.b``, which may be a module."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package[: len(package) - node.level + 1], *([node.module] if node.module else [])])
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return sorted(found)


def imported(path: Path) -> list[tuple[int, str]]:
    return imports_in(path.read_text(encoding="utf-8"), ["sentiment_app", *path.relative_to(PACKAGE).parent.parts])


def test_imports_are_read_as_python_resolves_them() -> None:
    source = ("import click\nfrom . import a\nfrom ..data import dataset\nimport torch.nn as nn\n"
              "def f():\n    from sentiment_app.store import s3\n")
    assert imports_in(source, ["sentiment_app", "cli", "sub"]) == [
        (1, "click"), (2, "sentiment_app.cli.sub.a"), (3, "sentiment_app.cli.data.dataset"), (4, "torch.nn"),
        (6, "sentiment_app.store.s3")]


def test_the_scan_sees_the_package() -> None:
    """The checks below would pass on nothing: they must see every module and real imports."""
    found = {top_level(path) for path in modules()}
    assert {ROOT, "__main__", "cli", "data", "serving", "gateway", "fileio"} <= found
    assert [name for _, name in imported(PACKAGE / "__main__.py")] == ["sentiment_app.cli.main"]
    assert any(name.split(".")[0] == "click" for path in modules() for _, name in imported(path))


def test_every_top_level_package_has_a_layer() -> None:
    unknown = {top_level(path) for path in modules()} - set(LEVEL)
    assert not unknown, f"add {sorted(unknown)} to LAYERS in {__file__}"


def test_click_is_imported_only_by_the_command_layer() -> None:
    outside = [f"{path.relative_to(PACKAGE.parent)}:{line}: {name}" for path in modules()
               if top_level(path) != "cli"
               for line, name in imported(path) if name.split(".")[0] == "click"]
    assert not outside, "click outside sentiment_app/cli/:\n" + "\n".join(outside)


@pytest.mark.parametrize("layer", [ROOT, *(name for names in LAYERS for name in names)])
def test_no_module_imports_from_a_higher_layer(layer: str) -> None:
    upward = []
    for path in modules():
        if top_level(path) != layer:
            continue
        for line, name in imported(path):
            parts = name.split(".")
            if parts[0] != "sentiment_app" or len(parts) < 2 or parts[1] not in LEVEL:
                continue
            if LEVEL[parts[1]] > LEVEL[layer]:
                where = f"{path.relative_to(PACKAGE.parent)}:{line}"
                upward.append(f"{where}: imports {name} ({parts[1]} is above {layer})")
    assert not upward, "\n".join(upward)
