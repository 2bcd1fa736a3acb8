"""``sentiment-app``: one thin command layer over the pipeline, serving and lifecycle modules.

Commands are imported only when run: torch, scikit-learn, matplotlib, NLTK and boto3 take seconds
to import, and ``sentiment-app apikey list`` should not wait for all of them. ``--help`` reads each
command's summary from its docstring in the source, without importing it.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

import click
from click.utils import make_default_short_help

from sentiment_app.errors import SentimentAppError

COMMANDS = {
    "prepare": "sentiment_app.cli.pipeline:prepare_command",
    "train": "sentiment_app.cli.pipeline:train_command",
    "evaluate": "sentiment_app.cli.pipeline:evaluate_command",
    "pipeline": "sentiment_app.cli.pipeline:pipeline_command",
    "teacher-labels": "sentiment_app.cli.pipeline:teacher_labels_command",
    "batch-transform": "sentiment_app.cli.batch_transform:batch_transform",
    "check": "sentiment_app.cli.check:check",
    "serve": "sentiment_app.cli.serve:serve",
    "endpoint": "sentiment_app.cli.endpoint:endpoint",
    "models": "sentiment_app.cli.models:models",
    "families": "sentiment_app.cli.families:families",
    "apikey": "sentiment_app.cli.apikey:apikey",
    "feedback": "sentiment_app.cli.feedback:feedback",
    "monitor": "sentiment_app.cli.monitor:monitor",
    "aws": "sentiment_app.cli.aws:aws",
}


def summary(target: str) -> str:
    """The docstring of ``module:attribute``'s function, read from its source file (not imported)."""
    module, attribute = target.split(":")
    spec = importlib.util.find_spec(module)
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))  # type: ignore[union-attr, arg-type]
    found = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == attribute)
    return ast.get_docstring(found) or ""


class Main(click.Group):
    """Loads each ``lazy`` command (name → ``module:attribute``) on first use and turns the
    package's user-facing errors into one clear line and exit status 1."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.lazy, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module, attribute = self.lazy[cmd_name].split(":")
            return getattr(importlib.import_module(module), attribute)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names))
        rows = [(name, make_default_short_help(summary(self.lazy[name]), limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SentimentAppError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(1)


@click.group(cls=Main, lazy=COMMANDS)
@click.version_option(package_name="sentiment-app")
def main() -> None:
    """Movie-review sentiment analysis, the SageMaker way, on one machine."""
