"""A batch submitted in the OpenAI Batch format, exported in that API's output format.

Output file, one line per finished job, as the Batch API writes it:

    {"id": "batch_req_<job id>", "custom_id": "…", "error": null,
     "response": {"status_code": 200, "request_id": "req_<job id>_t<tier>_<try>",
                  "body": <a chat.completion or text_completion object>}}

The body's ``model`` is the model that gave the final answer (the final
tier's), and its ``usage`` the token counts of that final attempt; the
earlier attempts and the job's full cost stay in the ledger and in the
native ``ladder export``. Jobs without an answer go to the error file:

    {"id": "…", "custom_id": "…", "response": null,
     "error": {"code": "job_failed" | "job_not_finished", "message": "…"}}

The endpoint of each request comes from the jobs' reserved metadata key
``_openai`` (see ``producer.formats.openai_batch``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import TextIO

from sqlalchemy import select

from ladder.ledger.queries import export_rows
from ladder.ledger.schema import JobStatus, jobs
from producer.formats.openai_batch import CHAT_URL, OPENAI_KEY

FAILED = "job_failed"
NOT_FINISHED = "job_not_finished"
_CHUNK = 1000


def _final_attempt(row: dict) -> dict | None:
    at_final_tier = [a for a in row["attempts"] if a["tier"] == row["final_tier"]]
    return max(at_final_tier, key=lambda a: a["try"], default=None)


def _body(row: dict, job, attempt: dict) -> dict:
    prompt_tokens, completion_tokens = attempt["prompt_tokens"], attempt["completion_tokens"]
    common = {
        "created": int(job.finished_at.timestamp()),
        "model": attempt["model"],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }
    finish_reason = "length" if completion_tokens >= job.max_tokens else "stop"
    text = row["output"] or ""
    if (job.request or {}).get("url", CHAT_URL) == CHAT_URL:
        message = {"role": "assistant", "content": text, "refusal": None}
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}
        return {"id": f"chatcmpl-ladder-{job.id}", "object": "chat.completion", "choices": [choice], **common}
    choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": finish_reason}
    return {"id": f"cmpl-ladder-{job.id}", "object": "text_completion", "choices": [choice], **common}


def output_line(row: dict, job) -> tuple[bool, dict]:
    """(True, output line) for a job with an answer, else (False, error line).

    ``row`` is one of ``export_rows``; ``job`` has the job's ``id``,
    ``max_tokens``, ``finished_at`` and ``request`` (its ``_openai`` metadata).
    """
    line = {"id": f"batch_req_{job.id}", "custom_id": row["custom_id"], "response": None, "error": None}
    attempt = _final_attempt(row)
    if row["status"] == JobStatus.DONE.value and attempt is not None:
        request_id = f"req_{job.id}_t{attempt['tier']}_{attempt['try']}"
        line["response"] = {"status_code": 200, "request_id": request_id, "body": _body(row, job, attempt)}
        return True, line
    if row["status"] in JobStatus.final():
        where = f" (last tried: tier {row['final_tier']}, model {attempt['model']})" if attempt else ""
        line["error"] = {"code": FAILED, "message": f"{row['error'] or 'no tier could answer'}{where}"}
    else:
        line["error"] = {"code": NOT_FINISHED,
                         "message": f"the job is still {row['status']}: export again once `ladder status` shows the batch complete"}
    return False, line


def _jobs_by_custom_id(conn, batch_id: int, custom_ids: list[str]) -> dict:
    query = select(jobs.c.custom_id, jobs.c.id, jobs.c.max_tokens, jobs.c.finished_at,
                   jobs.c.metadata[OPENAI_KEY].label("request"))
    rows = conn.execute(query.where(jobs.c.batch_id == batch_id, jobs.c.custom_id.in_(custom_ids)))
    return {row.custom_id: row for row in rows}


def openai_lines(conn, batch_id: int, tenant: str | None = None) -> Iterator[tuple[bool, dict]]:
    """``output_line`` for every job of the batch, in input order; the tenant is checked by ``export_rows``."""
    rows = export_rows(conn, batch_id, tenant)
    # export_rows has no job id or request; fetch them a chunk at a time so memory stays flat.
    while chunk := list(islice(rows, _CHUNK)):
        by_custom_id = _jobs_by_custom_id(conn, batch_id, [row["custom_id"] for row in chunk])
        for row in chunk:
            yield output_line(row, by_custom_id[row["custom_id"]])


def write_openai_export(conn, batch_id: int, tenant: str | None, output: TextIO, errors: TextIO) -> tuple[int, int]:
    """Write the output and error files; returns (answered, not answered)."""
    counts = [0, 0]
    for ok, line in openai_lines(conn, batch_id, tenant):
        (output if ok else errors).write(json.dumps(line, ensure_ascii=False) + "\n")
        counts[0 if ok else 1] += 1
    return counts[0], counts[1]


def default_errors_path(output: Path | None, batch_id: int) -> Path:
    """``results.jsonl`` → ``results.errors.jsonl``; with stdout, ``batch-<id>.errors.jsonl`` here."""
    if output is None:
        return Path(f"batch-{batch_id}.errors.jsonl")
    return output.with_name(f"{output.stem}.errors.jsonl")
