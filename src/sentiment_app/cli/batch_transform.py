"""``sentiment-app batch-transform``: score a file line by line, as a SageMaker transform job would."""

from __future__ import annotations

import time
from pathlib import Path

import click

from sentiment_app.cli.options import MODEL_HELP, MODEL_SOURCE, with_settings, with_store
from sentiment_app.errors import ArtifactError
from sentiment_app.inference.batch_transform import transform_file
from sentiment_app.inference.handler import JSON, TEXT
from sentiment_app.inference.model import SentimentModel
from sentiment_app.artifacts.locate import resolve_model_dir
from sentiment_app.settings import Settings
from sentiment_app.store.objects import input_prefix, is_folder, local_input, local_output, output_uri, resolve_input, within


def count_lines(path: Path) -> int:
    """Lines in a file, read in blocks (the output has one per input line)."""
    with open(path, "rb") as f:
        return sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 20), b""))


@click.command("batch-transform")
@click.argument("source", metavar="[INPUT]", required=False)
@click.option("--input", "input_option", metavar="INPUT", help="Same as the INPUT argument.")
@click.option("--model", "model_dir", type=MODEL_SOURCE, help=MODEL_HELP)
@click.option("--output", metavar="FILE|FOLDER/|S3URI",
              help="Target; a folder or a URI ending in / gets <input name>.out [default: <input>.out]; "
                   "needed, as a folder, for a folder or prefix INPUT.")
@click.option("--accept", type=click.Choice([JSON, TEXT]), default=JSON, show_default=True,
              help="JSON Lines with label and probability, or bare 1.0/0.0.")
@with_settings
@with_store
def batch_transform(source: str | None, input_option: str | None, model_dir: str | None, output: str | None,
                    accept: str, settings: Settings) -> None:
    """Write one prediction per input line, in order; broken lines get an error record.

    INPUT holds raw reviews one per line, or processed CSV rows (label,length,review[pad]): a local
    file, an s3://bucket/key URI, or a key in the store (e.g. sagemaker/sentiment_rnn/<id>/test.csv).
    A local folder, an s3://bucket/prefix/ or a folder of the store transforms every file under it
    into --output, each as <its path under the prefix>.out.
    """
    if (source is None) == (input_option is None):
        raise click.UsageError("give the input once: as INPUT or as --input")
    name = source or input_option
    prefix = input_prefix(name, settings.store)
    if prefix is None:
        input_uri = resolve_input(name, settings.store)
        model = SentimentModel.load(resolve_model_dir(settings, model_dir))
        transform_one(model, input_uri, output_uri(input_uri, output), accept)
        return
    folder, keys = prefix
    if output is None or not is_folder(output):
        raise click.UsageError("a folder or prefix INPUT needs --output FOLDER/ (or s3://bucket/prefix/) for its outputs")
    target = output if output.endswith("/") else output + "/"
    keys = [key for key in keys if not within(folder.url(key), target)]  # an output folder inside INPUT is not input
    if not keys:
        raise ArtifactError(f"{folder.uri} holds no files to transform")
    model = SentimentModel.load(resolve_model_dir(settings, model_dir))
    started, errors = time.perf_counter(), 0
    for key in keys:  # each key keeps its path under the prefix, as a transform job names its outputs
        errors += transform_one(model, folder.url(key), f"{target}{key}.out", accept)
    click.echo(f"{len(keys)} files, {errors} errors, {time.perf_counter() - started:.1f} s -> {target}")


def transform_one(model: SentimentModel, input_uri: str, target: str, accept: str) -> int:
    """Transform one file or object into ``target``; report it and return its error count."""
    started = time.perf_counter()
    with local_input(input_uri) as input_path, local_output(target) as output_path:
        errors = transform_file(model, input_path, output_path, accept=accept)
        lines = count_lines(output_path)
    click.echo(f"{lines} lines, {errors} errors, {time.perf_counter() - started:.1f} s -> {target}")
    return errors
