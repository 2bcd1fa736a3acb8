"""``sentiment-app batch-transform``: score a file line by line, as a SageMaker transform job would."""

from __future__ import annotations

import time
from pathlib import Path

import click

from sentiment_app.cli_options import with_settings
from sentiment_app.inference.batch_transform import default_output, transform_file
from sentiment_app.inference.handler import JSON, TEXT
from sentiment_app.inference.model import SentimentModel
from sentiment_app.model_dirs import resolve_model_dir
from sentiment_app.settings import Settings


def count_lines(path: Path) -> int:
    """Lines in a file, read in blocks (the output has one per input line)."""
    with open(path, "rb") as f:
        return sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 20), b""))


@click.command("batch-transform")
@click.option("--input", "input_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Raw reviews one per line, or processed CSV rows (label,length,review[pad]).")
@click.option("--model", "model_dir", type=click.Path(exists=True, file_okay=False),
              help="Model directory [default: newest trained model, else the bundled one].")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="[default: <input>.out]")
@click.option("--accept", type=click.Choice([JSON, TEXT]), default=JSON, show_default=True,
              help="JSON Lines with label and probability, or bare 1.0/0.0.")
@with_settings
def batch_transform(input_path: Path, model_dir: str | None, output: Path | None, accept: str, settings: Settings) -> None:
    """Write one prediction per input line, in order; broken lines get an error record."""
    model = SentimentModel.load(resolve_model_dir(settings, model_dir))
    output = output or default_output(input_path)
    started = time.perf_counter()
    errors = transform_file(model, input_path, output, accept=accept)
    seconds = time.perf_counter() - started
    click.echo(f"{count_lines(output)} lines, {errors} errors, {seconds:.1f} s -> {output}")
