"""Structured logs for the worker processes: one JSON object per line.

Every line has ``ts`` (UTC, ISO 8601), ``level``, ``logger`` and ``message``;
``job_id``, ``tier``, ``try`` and ``task`` come from the running Celery task
(tasks take ids, so its arguments say which job and tier), and a log call
may add ``batch`` (or override any of them) with ``extra=``.

Two rules hold whatever the calling code does:

- Prompt text is written only when debug logging is asked for: a record's
  ``prompt`` extra is dropped at any level above DEBUG.
- No secret: the value of every environment variable whose name ends with
  ``_KEY``, ``_TOKEN``, ``_SECRET`` or ``PASSWORD`` (an API key named by a
  tier's ``options.api_key_env``, the Flower password…) is replaced by
  ``***`` in messages, tracebacks and extras, from any logger, before the line
  is formatted.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import sys
from collections.abc import Mapping
from datetime import datetime, timezone

from celery import signals

SECRET_SUFFIXES = ("_KEY", "_TOKEN", "_SECRET", "PASSWORD")
# Shorter values would turn common words into "***"; they are not real secrets.
MIN_SECRET_CHARS = 4
REDACTED = "***"
CONTEXT_FIELDS = ("job_id", "tier", "try", "batch", "task", "task_id")

_task_context: contextvars.ContextVar[dict] = contextvars.ContextVar("ladder_task_context", default={})


def secret_values(environ: Mapping[str, str] = os.environ) -> list[str]:
    values = {v for k, v in environ.items() if k.upper().endswith(SECRET_SUFFIXES) and len(v) >= MIN_SECRET_CHARS}
    return sorted(values, key=len, reverse=True)  # longest first: a secret containing another is hidden whole


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: list[str]):
        super().__init__()
        self.pattern = re.compile("|".join(map(re.escape, secrets))) if secrets else None

    def redact(self, text: str) -> str:
        return self.pattern.sub(REDACTED, text) if self.pattern else text

    def filter(self, record: logging.LogRecord) -> bool:
        if self.pattern is None:
            return True
        record.msg, record.args = self.redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        for field in (*CONTEXT_FIELDS, "prompt"):
            value = getattr(record, field, None)
            if isinstance(value, str):
                setattr(record, field, self.redact(value))
        return True


class JsonFormatter(logging.Formatter):
    def __init__(self, include_prompts: bool):
        super().__init__()
        self.include_prompts = include_prompts

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry |= _task_context.get()
        entry |= {field: getattr(record, field) for field in CONTEXT_FIELDS if hasattr(record, field)}
        if self.include_prompts and hasattr(record, "prompt"):
            entry["prompt"] = record.prompt
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


def task_context(task_name: str, args: tuple, retries: int) -> dict:
    """What a task's arguments say about the job: (job_id,) or (job_id, tier)."""
    from worker.app import TIER_TASK

    context: dict = {"task": task_name}
    if task_name.startswith("ladder.") and args:
        context["job_id"] = args[0]
    if task_name == TIER_TASK and len(args) > 1:
        context |= {"tier": args[1], "try": retries + 1}
    return context


def _enter_task(task_id: str | None = None, task=None, args: tuple = (), **_: object) -> None:
    _task_context.set(task_context(task.name, tuple(args or ()), task.request.retries or 0) | {"task_id": task_id})


def _leave_task(**_: object) -> None:
    _task_context.set({})


def configure_logging(level: str | int | None = None, stream=None) -> logging.Handler:
    """JSON lines on stderr for the whole process; ``level`` defaults to LADDER_LOG_LEVEL."""
    if level is None:
        from ladder.settings import get_settings

        level = get_settings().log_level
    numeric = level if isinstance(level, int) else logging.getLevelName(str(level).upper())
    if not isinstance(numeric, int):
        raise ValueError(f"log level {level!r} is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
    # sys.__stderr__: Celery later swaps sys.stderr for a proxy that logs, which would loop back here.
    handler = logging.StreamHandler(stream or sys.__stderr__)
    handler.setFormatter(JsonFormatter(include_prompts=numeric <= logging.DEBUG))
    handler.addFilter(RedactSecrets(secret_values()))
    handler.set_name("ladder-json")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "ladder-json"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    signals.task_prerun.connect(_enter_task, weak=False, dispatch_uid="ladder-log-context")
    signals.task_postrun.connect(_leave_task, weak=False, dispatch_uid="ladder-log-context")
    return handler
