"""The OpenAI Batch API's input JSONL, so an existing batch file runs unchanged.

    {"custom_id": "r1", "method": "POST", "url": "/v1/chat/completions",
     "body": {"model": "gpt-4o-mini", "messages": [...], "max_completion_tokens": 64}}

Supported endpoints: ``/v1/chat/completions`` and ``/v1/completions``.

How a conversation becomes one Ladder prompt (tiers take a single prompt):
  - system and developer messages come first, one paragraph each, in order;
  - earlier user/assistant turns follow as ``User: …`` / ``Assistant: …`` paragraphs;
  - the last user message ends the prompt, unlabelled.
Paragraphs are separated by a blank line. The conversation must end with a
user message; content is a string or a list of ``{"type": "text"}`` parts.

``max_completion_tokens`` wins over the older ``max_tokens``. ``body.metadata``
becomes the job's metadata (its ``task`` key, if a string, the job's task).
Sampling parameters (temperature, top_p, …) are ignored: the tier decides.
The request's method, url and model are kept under the reserved metadata key
``_openai`` so that ``ladder export`` can answer in the same API's shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ladder.config import Limits
from producer.formats.common import checked_job, json_objects, unique_custom_ids
from producer.parse import JobSpec, LineError

CHAT_URL = "/v1/chat/completions"
COMPLETIONS_URL = "/v1/completions"
OPENAI_KEY = "_openai"
_INSTRUCTION_ROLES = ("system", "developer")
_TURN_LABELS = {"user": "User", "assistant": "Assistant"}


def _text(content: Any, position: int) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                raise ValueError(f"message {position} has a {kind!r} content part: only text parts "
                                 '({"type": "text", "text": "…"}) are supported')
            texts.append(part["text"])
        return "".join(texts)
    raise ValueError(f"message {position}: 'content' must be a string or a list of text parts")


def chat_prompt(messages: Any) -> str:
    """The documented rendering of a conversation into one prompt (see the module docstring)."""
    if not isinstance(messages, list) or not messages:
        raise ValueError("'body.messages' must be a non-empty list")
    instructions: list[str] = []
    turns: list[tuple[str, str]] = []
    for position, message in enumerate(messages, start=1):
        role = message.get("role") if isinstance(message, dict) else None
        if role in _INSTRUCTION_ROLES:
            instructions.append(_text(message.get("content"), position))
        elif role in _TURN_LABELS:
            turns.append((role, _text(message.get("content"), position)))
        else:
            raise ValueError(f"message {position} has role {role!r}: use system, developer, user or assistant")
    if not turns or turns[-1][0] != "user":
        raise ValueError("the conversation must end with a user message (that message is the prompt)")
    *earlier, (_, last) = turns
    if not last.strip():
        raise ValueError("the last user message is empty")
    paragraphs = [text for text in instructions if text.strip()]
    paragraphs += [f"{_TURN_LABELS[role]}: {text}" for role, text in earlier]
    return "\n\n".join([*paragraphs, last])


def _prompt(url: str, body: dict) -> str:
    if url == CHAT_URL:
        return chat_prompt(body.get("messages"))
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError("'body.prompt' must be a non-empty string (one prompt per line)")
    return prompt


def _job(line_no: int, obj: Any, limits: Limits) -> JobSpec | LineError:
    if not isinstance(obj, dict):
        return LineError(line_no, f"expected a JSON object, got {type(obj).__name__}")
    custom_id = obj.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        return LineError(line_no, "missing 'custom_id' (a non-empty string; the OpenAI Batch format requires one per line)")
    if obj.get("method") != "POST":
        return LineError(line_no, f"'method' must be \"POST\", got {obj.get('method')!r}")
    url = obj.get("url")
    if url not in (CHAT_URL, COMPLETIONS_URL):
        return LineError(line_no, f"'url' {url!r} is not supported: use {CHAT_URL} or {COMPLETIONS_URL}")
    body = obj.get("body")
    if not isinstance(body, dict):
        return LineError(line_no, "missing 'body' (a JSON object)")
    model = body.get("model")
    if model is not None and not isinstance(model, str):
        return LineError(line_no, "'body.model' must be a string")
    if body.get("n") not in (None, 1):
        return LineError(line_no, f"'body.n' is {body.get('n')!r}: Ladder answers each request with one choice, so use n=1")
    try:
        prompt = _prompt(url, body)
    except ValueError as exc:
        return LineError(line_no, str(exc))
    tokens_field = "max_completion_tokens" if "max_completion_tokens" in body else "max_tokens"
    user_metadata = body.get("metadata") or {}
    if not isinstance(user_metadata, dict):
        return LineError(line_no, "'body.metadata' must be a JSON object")
    metadata = {**user_metadata, OPENAI_KEY: {"method": "POST", "url": url, "body_model": model}}
    task = user_metadata.get("task")
    return checked_job(
        line_no, limits, prompt=prompt, custom_id=custom_id, max_tokens=body.get(tokens_field),
        task=task if isinstance(task, str) else None, metadata=metadata, max_tokens_field=f"body.{tokens_field}",
    )


def parse_openai_lines(lines: Iterable[str], limits: Limits) -> Iterator[JobSpec | LineError]:
    return unique_custom_ids(
        item if isinstance(item, LineError) else _job(*item, limits) for item in json_objects(lines)
    )
