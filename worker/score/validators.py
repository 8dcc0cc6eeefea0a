"""Task validators: cheap checks that veto an answer whatever its log-probs.

Each returns a reason string when the answer is unusable, else None.
"""

from __future__ import annotations

import json
import re

from worker.providers.base import Request

_REFUSAL = re.compile(
    r"^\s*(i'?m sorry|i am sorry|i cannot|i can'?t|as an ai|i am unable|i'm unable)\b", re.IGNORECASE
)
# Tasks whose answer must parse as JSON.
JSON_TASKS = {"json", "format_conversion_json", "extract_json"}


def validate(request: Request, text: str) -> str | None:
    stripped = text.strip()
    if not stripped:
        return "empty"
    if _REFUSAL.search(stripped):
        return "refusal"
    if request.task in JSON_TASKS:
        try:
            json.loads(_strip_fence(stripped))
        except ValueError:
            return "invalid_json"
    return None


def _strip_fence(text: str) -> str:
    # Models often wrap JSON in a Markdown fence; the content is what counts.
    match = re.match(r"^```(?:json)?\s*(.*?)\s*```$", text, re.DOTALL)
    return match.group(1) if match else text
