"""``sentiment-app batch-transform``: score a file line by line, as a SageMaker transform job would."""

from __future__ import annotations

import time
from pathlib import Path

import click

from sentiment_app.cli_options import with_settings, with_store
from sentiment_app.inference.batch_transform import transform_file
from sentiment_app.inference.handler import JSON, TEXT
from sentiment_app.inference.model import SentimentModel
from sentiment_app.model_dirs import resolve_model_dir
from sentiment_app.settings import Settings
from sentiment_app.store.objects import local_input, local_output, output_uri, resolve_input


def count_lines(path: Path) -> int:
    """Lines in a file, read in blocks (the output has one per input line)."""
    with open(path, "rb") as f:
        return sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 20), b""))


@click.command("batch-transform")
@click.argument("source", metavar="[INPUT]", required=False)
@click.option("--input", "input_option", metavar="INPUT", help="Same as the INPUT argument.")
@click.option("--model", "model_dir", type=click.Path(exists=True, file_okay=False),
              help="Model directory [default: newest trained model, else the bundled one].")
@click.option("--output", metavar="FILE|FOLDER/|S3URI",
              help="Target; a folder or a URI ending in / gets <input name>.out [default: <input>.out].")
@click.option("--accept", type=click.Choice([JSON, TEXT]), default=JSON, show_default=True,
              help="JSON Lines with label and probability, or bare 1.0/0.0.")
@with_settings
@with_store
def batch_transform(source: str | None, input_option: str | None, model_dir: str | None, output: str | None,
                    accept: str, settings: Settings) -> None:
    """Write one prediction per input line, in order; broken lines get an error record.

    INPUT holds raw reviews one per line, or processed CSV rows (label,length,review[pad]): a local
    file, an s3://bucket/key URI, or a key in the store (e.g. sagemaker/sentiment_rnn/<id>/test.csv).
    """
    if (source is None) == (input_option is None):
        raise click.UsageError("give the input once: as INPUT or as --input")
    input_uri = resolve_input(source or input_option, settings.store)
    target = output_uri(input_uri, output)
    model = SentimentModel.load(resolve_model_dir(settings, model_dir))
    started = time.perf_counter()
    with local_input(input_uri) as input_path, local_output(target) as output_path:
        errors = transform_file(model, input_path, output_path, accept=accept)
        lines = count_lines(output_path)
    seconds = time.perf_counter() - started
    click.echo(f"{lines} lines, {errors} errors, {seconds:.1f} s -> {target}")
