"""Worker logs: one JSON object per line, task context, no prompt text at INFO, never a secret."""

from __future__ import annotations

import io
import json
import logging

import pytest

from worker.logs import configure_logging, task_context

PROMPT = "Summarise the merger memo for Project Bluebird"


@pytest.fixture()
def captured():
    """configure_logging(level) on a buffer; returns the lines written, parsed."""
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)

    def configure(level: str):
        stream.seek(0)
        stream.truncate()
        configure_logging(level, stream=stream)
        return lambda: [json.loads(line) for line in stream.getvalue().splitlines()]

    yield configure
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def test_a_line_is_one_json_object_with_the_job_fields(captured):
    # Given JSON logging at INFO
    lines = captured("INFO")
    # When the tier task logs with the batch it knows
    logging.getLogger("ladder.tier").info("job %s accepted", 7, extra={"job_id": 7, "tier": 2, "try": 1, "batch": 3})
    # Then the line carries them as fields next to ts, level, logger and message
    (line,) = lines()
    assert {k: line[k] for k in ("level", "logger", "message", "job_id", "tier", "try", "batch")} == {
        "level": "INFO", "logger": "ladder.tier", "message": "job 7 accepted", "job_id": 7, "tier": 2, "try": 1, "batch": 3}
    assert line["ts"].endswith("+00:00")


def test_prompt_text_is_dropped_at_info_and_written_at_debug(captured):
    # Given INFO logging
    lines = captured("INFO")
    # When code logs a prompt as an extra
    logging.getLogger("ladder.tier").info("calling the model", extra={"prompt": PROMPT})
    # Then the line has no prompt text
    assert PROMPT not in json.dumps(lines())
    # And at DEBUG, asked for explicitly, it does
    lines = captured("DEBUG")
    logging.getLogger("ladder.tier").info("calling the model", extra={"prompt": PROMPT})
    assert lines()[0]["prompt"] == PROMPT


def test_secret_values_of_the_environment_are_redacted_everywhere(captured, monkeypatch):
    # Given an API key and a password in the environment (the key named by a tier's api_key_env)
    monkeypatch.setenv("LADDER_TIER4_API_KEY", "sk-live-4f9a8b7c6d5e")
    monkeypatch.setenv("LADDER_FLOWER_PASSWORD", "hunter2-flower")
    monkeypatch.setenv("LADDER_TIER4_MODEL", "gpt-4o")  # not a secret by its name
    lines = captured("INFO")
    # When a third-party logger prints the key in a message, and an error's traceback carries the password
    logging.getLogger("httpx").warning("Authorization: Bearer %s", "sk-live-4f9a8b7c6d5e")
    try:
        raise RuntimeError("login failed for admin:hunter2-flower")
    except RuntimeError:
        logging.getLogger("ladder.worker").exception("model %s unreachable", "gpt-4o")
    # Then neither secret is written, and what is not a secret is
    warning, error = lines()
    written = json.dumps([warning, error])
    assert "sk-live-4f9a8b7c6d5e" not in written and "hunter2-flower" not in written
    assert warning["message"] == "Authorization: Bearer ***" and "admin:***" in error["exc"]
    assert error["message"] == "model gpt-4o unreachable"


def test_task_arguments_give_job_tier_and_try():
    # Given the tier task's arguments (job_id, tier) on its second retry; the route task's (job_id,)
    # Then the context names them
    assert task_context("ladder.tier", (41, 3), retries=2) == {"task": "ladder.tier", "job_id": 41, "tier": 3, "try": 3}
    assert task_context("ladder.route", (41,), retries=0) == {"task": "ladder.route", "job_id": 41}


def test_an_unknown_level_says_which_levels_exist():
    with pytest.raises(ValueError, match="DEBUG, INFO"):
        configure_logging("LOUD", stream=io.StringIO())
