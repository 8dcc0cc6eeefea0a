"""Ladder JSONL, the native format: one object per line.

    {"custom_id": "faq-1", "prompt": "…", "max_tokens": 64, "task": "faq", "metadata": {…}}

Only ``prompt`` is required; blank lines are skipped but keep the numbering.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ladder.config import Limits
from producer.formats.common import checked_job, json_objects, unique_custom_ids
from producer.parse import JobSpec, LineError


def _job(line_no: int, obj: Any, limits: Limits) -> JobSpec | LineError:
    if not isinstance(obj, dict):
        return LineError(line_no, f"expected a JSON object, got {type(obj).__name__}")
    return checked_job(
        line_no, limits, prompt=obj.get("prompt"), custom_id=obj.get("custom_id"), max_tokens=obj.get("max_tokens"),
        task=obj.get("task"), metadata=obj.get("metadata"),
    )


def parse_ladder_lines(lines: Iterable[str], limits: Limits) -> Iterator[JobSpec | LineError]:
    return unique_custom_ids(
        item if isinstance(item, LineError) else _job(*item, limits) for item in json_objects(lines)
    )
