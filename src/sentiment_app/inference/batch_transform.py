"""SageMaker batch transform with ``SplitType=Line`` and ``AssembleWith=Line``, on a local file.

Every input line gives exactly one output line, in order, so results join back to inputs by line
number. The input is streamed and scored ``batch_size`` lines at a time, so memory stays bounded
for any file size; the output appears only when the run completes (``<output>.partial`` renamed),
as SageMaker only uploads ``<input>.out`` for a finished job. A broken line does not stop the run:
it gets ``{"error": ..., "line": N}`` in its place, as one bad record should not cost a whole job.

A killed or interrupted run resumes: after each chunk is fsynced to ``<output>.partial``, the input
offset, output size and line count are saved (atomically) in ``<output>.progress``; the next run
of the same input, model and settings cuts the partial file back to the saved size and carries on
from there, so no line is lost or written twice. An error (not an interruption) removes both files.

Two input forms, fixed by the first readable line: raw reviews, one per line, or the processed
CSV (``label,length,review[pad]`` or ``length,review[pad]``, all integers).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from collections.abc import Iterator
from typing import BinaryIO
from dataclasses import asdict, dataclass
from itertools import islice
from pathlib import Path

import numpy as np
from tqdm import tqdm

from sentiment_app.fileio import NO_ROOM, atomic_write_bytes, creating, storage_error
from sentiment_app.inference.handler import JSON, TEXT, label, negotiate
from sentiment_app.inference.model import SentimentModel
from sentiment_app.wire import MAX_BODY_BYTES

_INTEGERS = re.compile(r"[0-9]+(?:,[0-9]+)*")
MAX_LINE_BYTES = MAX_BODY_BYTES  # SageMaker's default MaxPayloadInMB: no one record may be larger


@dataclass(frozen=True)
class Broken:
    """A line that cannot be scored, and why."""

    reason: str


class LineParser:
    """Decodes one raw line into a review text, an encoded row, or :class:`Broken`.

    The form (text or CSV, and the CSV's field count) is taken from the first line that decodes,
    so a review that happens to look like numbers later in a text file is still read as text.
    ``pad`` is None for models that only read text: every line is then a review.
    """

    def __init__(self, pad: int | None, vocab_ids: int) -> None:
        self.pad = pad
        self.vocab_ids = vocab_ids
        self.csv_fields: int | None = None
        self.decided = False

    def _decide(self, line: str) -> None:
        self.decided = True
        if self.pad is not None and _INTEGERS.fullmatch(line) and line.count(",") + 1 in (self.pad + 1, self.pad + 2):
            self.csv_fields = line.count(",") + 1

    def _row(self, line: str) -> np.ndarray | Broken:
        fields = line.count(",") + 1
        if fields != self.csv_fields:
            return Broken(f"expected {self.csv_fields} comma-separated integers, got {fields} fields")
        if not _INTEGERS.fullmatch(line):
            return Broken("a field is not a non-negative integer")
        row = np.array(line.split(",")[-(self.pad + 1) :], dtype=np.int64)
        if row[0] > self.pad:
            return Broken(f"length {row[0]} is over the pad length {self.pad}")
        if row[1:].max() >= self.vocab_ids:
            return Broken(f"word id {row[1:].max()} is not in the model's dictionary (ids < {self.vocab_ids})")
        return row

    def __call__(self, raw: bytes | Broken) -> str | np.ndarray | Broken:
        if isinstance(raw, Broken):
            return raw
        try:
            line = raw.rstrip(b"\r\n").decode("utf-8")
        except UnicodeDecodeError as exc:
            return Broken(f"invalid UTF-8 at byte {exc.start}")
        if not line.strip():
            return Broken("empty line")
        if "\x00" in line:  # as the endpoint refuses it: no review holds one
            return Broken("the line contains a NUL byte")
        if not self.decided:
            self._decide(line)
        return line if self.csv_fields is None else self._row(line)


def _score(model: SentimentModel, items: list[str | np.ndarray | Broken]) -> list[float | Broken]:
    """Probabilities for the good items of one batch (all of one form); Broken ones pass through."""
    good = [item for item in items if not isinstance(item, Broken)]
    if not good:
        return items  # type: ignore[return-value]
    if isinstance(good[0], str):
        probabilities = iter(model.predict_proba(good).tolist())  # type: ignore[arg-type]
    else:
        probabilities = iter(model.predict_rows(np.stack(good)).tolist())  # type: ignore[arg-type]
    return [item if isinstance(item, Broken) else next(probabilities) for item in items]


def _render(result: float | Broken, line_number: int, kind: str) -> str:
    if isinstance(result, Broken):
        return json.dumps({"error": result.reason, "line": line_number})
    if kind == TEXT:
        return "1.0" if result >= 0.5 else "0.0"
    return json.dumps({"label": label(result), "probability": round(result, 6)})


def _lines(source: BinaryIO, limit: int) -> Iterator[bytes | Broken]:
    """The lines of ``source``; one longer than ``limit`` is read past in bounded pieces and reported,
    so memory stays bounded even for a file that is one huge line."""
    while line := source.readline(limit + 1):
        if len(line) > limit and not line.endswith(b"\n"):
            while (rest := source.readline(limit)) and not rest.endswith(b"\n"):
                pass
            yield Broken(f"the line is longer than the record limit of {limit} bytes")
        else:
            yield line


def _batches(lines: Iterator[bytes | Broken], size: int) -> Iterator[list[bytes | Broken]]:
    while batch := list(islice(lines, size)):
        yield batch


def default_output(input_path: Path) -> Path:
    """SageMaker's naming: ``<input>.out`` next to the input."""
    return Path(f"{input_path}.out")


def sidecars(output_path: Path) -> tuple[Path, Path]:
    """``<output>.partial`` (the lines so far) and ``<output>.progress`` (how far they reach)."""
    return output_path.with_name(output_path.name + ".partial"), output_path.with_name(output_path.name + ".progress")


@dataclass
class Progress:
    """How far a run got. ``job`` must match for a later run to continue from here."""

    job: dict[str, object]
    read: int = 0  # input bytes consumed
    written: int = 0  # output bytes fsynced
    lines: int = 0
    errors: int = 0
    csv_fields: int | None = None  # the input form, as the parser decided it
    decided: bool = False


def resume_point(output_path: Path, job: dict[str, object]) -> Progress:
    """The saved progress of an interrupted run of the same job, else a fresh start."""
    partial, progress = sidecars(output_path)
    try:
        saved = Progress(**json.loads(progress.read_bytes()))
        usable = saved.job == job and partial.stat().st_size >= saved.written
    except (OSError, ValueError, TypeError):
        return Progress(job)
    return saved if usable else Progress(job)


def transform_file(
    model: SentimentModel,
    input_path: Path,
    output_path: Path | None = None,
    accept: str = JSON,
    batch_size: int = 256,
) -> int:
    """Score every line of ``input_path`` into ``output_path`` (default ``<input>.out``).

    Returns the number of lines that got an error record instead of a prediction. ``accept`` is
    ``application/json`` (JSON Lines with label and probability) or ``text/plain`` (``1.0``/``0.0``).
    """
    kind = negotiate(accept)
    input_path = Path(input_path)
    output_path = Path(output_path) if output_path else default_output(input_path)
    stat = input_path.stat()
    job = {"input": str(input_path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
           "model": model.version, "accept": kind, "batch_size": batch_size}
    progress = resume_point(output_path, job)
    partial, progress_file = sidecars(output_path)
    parse = LineParser(model.pad, len(model.vocab) + 2)
    parse.csv_fields, parse.decided = progress.csv_fields, progress.decided
    if progress.read:
        print(f"Resuming {output_path} at line {progress.lines + 1}", file=sys.stderr)
    try:
        with creating(partial):
            partial.parent.mkdir(parents=True, exist_ok=True)
            sink = open(partial, "r+b" if progress.read else "wb")
        with (
            open(input_path, "rb") as source,
            sink,
            tqdm(total=stat.st_size, initial=progress.read, desc="batch transform", unit="B", unit_scale=True) as bar,
        ):
            source.seek(progress.read)
            sink.truncate(progress.written)
            sink.seek(progress.written)
            for batch in _batches(_lines(source, MAX_LINE_BYTES), batch_size):
                out = []
                for result in _score(model, [parse(raw) for raw in batch]):
                    progress.lines += 1
                    progress.errors += isinstance(result, Broken)
                    out.append(_render(result, progress.lines, kind) + "\n")
                sink.write("".join(out).encode("utf-8"))
                sink.flush()
                os.fsync(sink.fileno())
                read, progress.read = progress.read, source.tell()
                progress.written = sink.tell()
                progress.csv_fields, progress.decided = parse.csv_fields, parse.decided
                atomic_write_bytes(progress_file, json.dumps(asdict(progress)).encode())
                bar.update(progress.read - read)
        os.replace(partial, output_path)
    except Exception as exc:  # an error, not an interruption: nothing to resume, nothing half-written
        for leftover in (partial, progress_file):
            with contextlib.suppress(OSError):  # also when the folder itself is the problem
                leftover.unlink()
        if isinstance(exc, OSError) and exc.errno in NO_ROOM:
            raise storage_error(output_path, exc) from exc
        raise
    progress_file.unlink(missing_ok=True)
    return progress.errors
