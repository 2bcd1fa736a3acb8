"""SageMaker batch transform with ``SplitType=Line`` and ``AssembleWith=Line``, on a local file.

Every input line gives exactly one output line, in order, so results join back to inputs by line
number. The input is streamed and scored ``batch_size`` lines at a time, so memory stays bounded
for any file size; the output appears only when the run completes (temp file + rename), as
SageMaker only uploads ``<input>.out`` for a finished job. A broken line does not stop the run: it
gets ``{"error": ..., "line": N}`` in its place, as one bad record should not cost a whole job.

Two input forms, fixed by the first readable line: raw reviews, one per line, or the processed
CSV (``label,length,review[pad]`` or ``length,review[pad]``, all integers).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np
from tqdm import tqdm

from sentiment_app.fileio import atomic_open
from sentiment_app.inference.handler import JSON, TEXT, label, negotiate
from sentiment_app.inference.model import SentimentModel

_INTEGERS = re.compile(r"[0-9]+(?:,[0-9]+)*")


@dataclass(frozen=True)
class Broken:
    """A line that cannot be scored, and why."""

    reason: str


class LineParser:
    """Decodes one raw line into a review text, an encoded row, or :class:`Broken`.

    The form (text or CSV, and the CSV's field count) is taken from the first line that decodes,
    so a review that happens to look like numbers later in a text file is still read as text.
    """

    def __init__(self, pad: int, vocab_ids: int) -> None:
        self.pad = pad
        self.vocab_ids = vocab_ids
        self.csv_fields: int | None = None
        self.decided = False

    def _decide(self, line: str) -> None:
        self.decided = True
        if _INTEGERS.fullmatch(line) and line.count(",") + 1 in (self.pad + 1, self.pad + 2):
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

    def __call__(self, raw: bytes) -> str | np.ndarray | Broken:
        try:
            line = raw.rstrip(b"\r\n").decode("utf-8")
        except UnicodeDecodeError as exc:
            return Broken(f"invalid UTF-8 at byte {exc.start}")
        if not line.strip():
            return Broken("empty line")
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


def _batches(lines: Iterator[bytes], size: int) -> Iterator[list[bytes]]:
    while batch := list(islice(lines, size)):
        yield batch


def default_output(input_path: Path) -> Path:
    """SageMaker's naming: ``<input>.out`` next to the input."""
    return Path(f"{input_path}.out")


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
    parse = LineParser(model.pad, len(model.vocab) + 2)
    errors, line_number = 0, 0
    with (
        open(input_path, "rb") as source,
        atomic_open(output_path, "wb") as sink,
        tqdm(total=input_path.stat().st_size, desc="batch transform", unit="B", unit_scale=True) as bar,
    ):
        for batch in _batches(iter(source), batch_size):
            out = []
            for result in _score(model, [parse(raw) for raw in batch]):
                line_number += 1
                errors += isinstance(result, Broken)
                out.append(_render(result, line_number, kind) + "\n")
            sink.write("".join(out).encode("utf-8"))
            bar.update(sum(map(len, batch)))
    return errors
