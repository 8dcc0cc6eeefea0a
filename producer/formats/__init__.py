"""Input formats of ``ladder submit``: Ladder JSONL, OpenAI Batch JSONL, CSV.

Detection, when no format is named (``--format ladder|openai|csv``):
  1. a file whose name ends in ``.csv`` is CSV;
  2. otherwise the first non-blank line decides: a JSON object with both
     ``body`` and ``method`` keys means OpenAI Batch, any other JSON object
     Ladder JSONL; a line that is not JSON but reads as a CSV header with a
     ``prompt`` column means CSV;
  3. anything else is read as Ladder JSONL, whose errors then say why.

Every parser yields a ``JobSpec`` per good line and a ``LineError`` per bad
one, lazily, so memory stays flat whatever the file size.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from pathlib import Path

from ladder.config import Limits
from ladder.errors import InputError
from producer.formats.csv_rows import parse_csv_lines
from producer.formats.ladder_jsonl import parse_ladder_lines
from producer.formats.openai_batch import parse_openai_lines
from producer.parse import JobSpec, LineError, open_batch_file

Parser = Callable[[Iterable[str], Limits], Iterator[JobSpec | LineError]]
PARSERS: dict[str, Parser] = {"ladder": parse_ladder_lines, "openai": parse_openai_lines, "csv": parse_csv_lines}
FORMATS = tuple(PARSERS)


def _format_of_first_line(line: str) -> str:
    try:
        first = json.loads(line)
    except ValueError:
        first = None
    if isinstance(first, dict):
        return "openai" if "body" in first and "method" in first else "ladder"
    if first is None and not line.lstrip().startswith(("{", "[")):
        columns = next(csv.reader([line]), [])
        if "prompt" in (column.strip().lower() for column in columns):
            return "csv"
    return "ladder"


def detect_format(path: Path, lines: Iterator[str]) -> tuple[str, Iterator[str]]:
    """The format of a batch file, and its lines with the ones peeked at put back."""
    if Path(path).suffix.lower() == ".csv":
        return "csv", lines
    peeked: list[str] = []
    for line in lines:
        peeked.append(line)
        if line.strip():
            return _format_of_first_line(line), chain(peeked, lines)
    return "ladder", iter(peeked)  # only blank lines: nothing to detect, and nothing to submit


def parse_any(path: Path, limits: Limits, fmt: str | None = None) -> tuple[str, Iterator[JobSpec | LineError]]:
    """(input format, lazy jobs and errors) of a batch file in any supported format."""
    if fmt is not None and fmt not in PARSERS:
        raise InputError(f"unknown input format {fmt!r}: use one of {', '.join(FORMATS)}")
    lines = open_batch_file(path)
    if fmt is None:
        fmt, lines = detect_format(path, lines)
    return fmt, PARSERS[fmt](lines, limits)
