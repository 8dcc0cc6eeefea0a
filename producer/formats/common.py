"""What every input format shares, so a job is valid by one rule whatever file it came from.

``checked_job`` holds the validations (prompt size, max_tokens, custom_id,
task, metadata), ``unique_custom_ids`` the one-id-per-batch rule, and
``json_objects`` the JSONL line reader used by both JSON formats.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from ladder.config import Limits
from producer.parse import JobSpec, LineError


def json_objects(lines: Iterable[str]) -> Iterator[tuple[int, Any] | LineError]:
    """(line number, decoded value) per non-blank line; a line that is not JSON is a ``LineError``."""
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield line_no, json.loads(line)
        except json.JSONDecodeError as exc:
            yield LineError(line_no, f"not valid JSON ({exc.msg} at column {exc.colno})")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def checked_job(
    line_no: int,
    limits: Limits,
    *,
    prompt: Any,
    custom_id: Any = None,
    max_tokens: Any = None,
    task: Any = None,
    metadata: Any = None,
    max_tokens_field: str = "max_tokens",
) -> JobSpec | LineError:
    """A ``JobSpec`` when every field is acceptable, else the first problem found.

    A missing ``custom_id`` becomes ``line-N``; a missing ``max_tokens`` the
    configured default. ``max_tokens_field`` names the field as the user wrote it.
    """
    if not isinstance(prompt, str) or not prompt.strip():
        return LineError(line_no, "missing 'prompt' (a non-empty string)")
    if len(prompt) > limits.max_prompt_chars:
        return LineError(line_no, f"prompt is {len(prompt)} characters; the limit is {limits.max_prompt_chars} (limits.max_prompt_chars)")
    if custom_id is None:
        custom_id = f"line-{line_no}"
    if not (isinstance(custom_id, str) or _is_int(custom_id)) or str(custom_id) == "":
        return LineError(line_no, "'custom_id' must be a non-empty string")
    if max_tokens is None:
        max_tokens = limits.default_max_tokens
    if not _is_int(max_tokens) or max_tokens <= 0:
        return LineError(line_no, f"'{max_tokens_field}' must be a positive integer, got {max_tokens!r}")
    if max_tokens > limits.max_max_tokens:
        return LineError(line_no, f"'{max_tokens_field}' is {max_tokens}; the limit is {limits.max_max_tokens} (limits.max_max_tokens)")
    if task is not None and not isinstance(task, str):
        return LineError(line_no, "'task' must be a string")
    if metadata is not None and not isinstance(metadata, dict):
        return LineError(line_no, "'metadata' must be a JSON object")
    return JobSpec(line_no, str(custom_id), prompt, max_tokens, task, metadata)


def unique_custom_ids(items: Iterable[JobSpec | LineError]) -> Iterator[JobSpec | LineError]:
    """The second and later jobs with an already-used custom_id become errors."""
    seen: set[str] = set()
    for item in items:
        if isinstance(item, JobSpec):
            if item.custom_id in seen:
                item = LineError(item.line_no, f"duplicate custom_id {item.custom_id!r} (custom_id must be unique in a batch)")
            else:
                seen.add(item.custom_id)
        yield item
