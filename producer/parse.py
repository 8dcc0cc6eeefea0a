"""Batch files → ``JobSpec`` values, one per good line, ``LineError`` per bad one.

Parsing is streamed (a generator over the file) so a million-line file costs
no more memory than one line. A bad line never stops the batch; only an empty
or unreadable file is an ``InputError``.
"""

from __future__ import annotations

import json
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


def _read_ladder_line(obj: Any, line_no: int, limits: Limits) -> JobSpec | LineError:
    if not isinstance(obj, dict):
        return LineError(line_no, f"expected a JSON object, got {type(obj).__name__}")
    prompt = obj.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        return LineError(line_no, "missing 'prompt' (a non-empty string)")
    if len(prompt) > limits.max_prompt_chars:
        return LineError(line_no, f"prompt is {len(prompt)} characters; the limit is {limits.max_prompt_chars} (limits.max_prompt_chars)")
    custom_id = obj.get("custom_id", f"line-{line_no}")
    if not isinstance(custom_id, (str, int)) or isinstance(custom_id, bool) or str(custom_id) == "":
        return LineError(line_no, "'custom_id' must be a non-empty string")
    max_tokens = obj.get("max_tokens", limits.default_max_tokens)
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens <= 0:
        return LineError(line_no, f"'max_tokens' must be a positive integer, got {max_tokens!r}")
    if max_tokens > limits.max_max_tokens:
        return LineError(line_no, f"'max_tokens' is {max_tokens}; the limit is {limits.max_max_tokens} (limits.max_max_tokens)")
    task = obj.get("task")
    if task is not None and not isinstance(task, str):
        return LineError(line_no, "'task' must be a string")
    metadata = obj.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        return LineError(line_no, "'metadata' must be a JSON object")
    return JobSpec(line_no, str(custom_id), prompt, max_tokens, task, metadata)


def parse_lines(lines: Iterable[str], limits: Limits) -> Iterator[JobSpec | LineError]:
    """Ladder JSONL: one object per line; blank lines are skipped."""
    seen: set[str] = set()
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield LineError(line_no, f"not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        item = _read_ladder_line(obj, line_no, limits)
        if isinstance(item, JobSpec):
            if item.custom_id in seen:
                item = LineError(line_no, f"duplicate custom_id {item.custom_id!r} (custom_id must be unique in a batch)")
            else:
                seen.add(item.custom_id)
        yield item


def open_batch_file(path: Path) -> Iterator[str]:
    """Lines of a batch file, with a clear error for a missing, unreadable or empty one."""
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8", newline="")
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


def parse_file(path: Path, limits: Limits) -> ParseResult:
    result = ParseResult()
    for item in parse_lines(open_batch_file(path), limits):
        (result.jobs if isinstance(item, JobSpec) else result.errors).append(item)
    return result
