"""The values every input format produces, and the reader of batch files.

A parser turns a file into ``JobSpec`` values, one per good line, and a
``LineError`` per bad one; the parsers themselves live in ``producer.formats``.
A bad line never stops the batch; only an empty or unreadable file is an
``InputError``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ladder.config import Limits
from ladder.errors import InputError


@dataclass(frozen=True)
class JobSpec:
    line_no: int
    custom_id: str
    prompt: str
    max_tokens: int
    task: str | None = None
    metadata: dict[str, Any] | None = None


@dataclass(frozen=True)
class LineError:
    line_no: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line_no}: {self.reason}"


@dataclass
class ParseResult:
    jobs: list[JobSpec] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)


def open_batch_file(path: Path) -> Iterator[str]:
    """Lines of a batch file, with a clear error for a missing, unreadable or empty one."""
    path = Path(path)
    try:
        # utf-8-sig: spreadsheet exports often start with a byte-order mark
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    return _lines(handle, path)


def _lines(handle, path: Path) -> Iterator[str]:
    with handle:
        any_content = False
        try:
            for line in handle:
                any_content = any_content or bool(line.strip())
                yield line
        except UnicodeDecodeError as exc:
            raise InputError(f"{path} is not UTF-8 text (byte {exc.start}): save it as UTF-8") from None
        if not any_content:
            raise InputError(f"{path} is empty: nothing to submit")


# The parsers import the types above, so these two import them back lazily.
def parse_lines(lines: Iterable[str], limits: Limits) -> Iterator[JobSpec | LineError]:
    """Ladder JSONL lines (the native format) → jobs and errors."""
    from producer.formats.ladder_jsonl import parse_ladder_lines

    return parse_ladder_lines(lines, limits)


def parse_file(path: Path, limits: Limits, fmt: str | None = None) -> ParseResult:
    """A whole file in any supported format, collected (for small files and tests)."""
    from producer.formats import parse_any

    result = ParseResult()
    for item in parse_any(path, limits, fmt)[1]:
        (result.jobs if isinstance(item, JobSpec) else result.errors).append(item)
    return result
